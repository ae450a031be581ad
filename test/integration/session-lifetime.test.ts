import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { sleep, startTestSandbox, startTestServer, type TestServer } from '../support/harness';
import { Applicant } from '../support/applicant';

let sandbox: Sandbox;
let server: TestServer;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  server = await startTestServer({ sandbox, env: { SESSION_TTL_S: '2', SESSION_ABSOLUTE_TTL_S: '4' } });
});
afterAll(async () => {
  await server.close();
  await sandbox.close();
});

describe('session lifetimes', () => {
  it('an idle session ends after the idle lifetime', async () => {
    const applicant = new Applicant(server.url);
    await applicant.start();
    expect((await applicant.get('/api/verification')).body.status).toBe('awaiting_user');
    await sleep(2300);
    expect((await applicant.get('/api/verification')).body.status).toBe('none');
  });

  it('activity keeps a session alive past the idle lifetime, but not past the absolute one', async () => {
    const applicant = new Applicant(server.url);
    await applicant.start();
    const started = Date.now();
    while (Date.now() - started < 3300) {
      expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('awaiting_user');
      await sleep(300);
    }
    await sleep(Math.max(0, 4200 - (Date.now() - started)));
    expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('none');
  }, 15_000);
});
