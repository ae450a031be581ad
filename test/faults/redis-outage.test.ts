import { spawn } from 'node:child_process';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { sleep, startTestSandbox, startTestServer, type TestServer } from '../support/harness';
import { createPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { Applicant } from '../support/applicant';

let sandbox: Sandbox;
let redis: PrivateRedis;
let server: TestServer;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await createPrivateRedis();
  await redis.start();
  server = await startTestServer({
    sandbox,
    redis: false,
    env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '500' },
  });
});
afterAll(async () => {
  await server?.close();
  redis?.cleanup();
  await sandbox?.close();
});

describe('Redis stops mid-flow', () => {
  it('answers 503 dependency_unavailable within its deadline, stays up, and recovers with the verification intact', async () => {
    const applicant = new Applicant(server.url);
    await applicant.callback(await applicant.startAndApprove());
    const ready = await applicant.poll(['ready']);

    redis.stop();
    await sleep(100);
    for (const request of [
      () => applicant.get('/api/verification'),
      () => applicant.get('/readyz'),
      () => applicant.post('/api/verification').set('Content-Type', 'application/json').send({}),
      () => applicant.delete('/api/verification').set('Content-Type', 'application/json'),
    ]) {
      const started = Date.now();
      const res = await request();
      expect(Date.now() - started).toBeLessThan(2500);
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: 'dependency_unavailable', requestId: expect.any(String) });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The widget's way back during the outage: a redirect with a reason, never a hanging request.
    const callback = await applicant.callback('/callback?state=abc&success=true&code=x');
    expect(callback).toBe('/?verification=failed&reason=dependency_unavailable');
    await applicant.get('/healthz').expect(200);

    await redis.start();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await applicant.get('/readyz')).status;
      if (status !== 200) await sleep(100);
    }
    expect(status).toBe(200);
    const after = await applicant.get('/api/verification').expect(200);
    expect(after.body).toEqual(ready.body);
  }, 30_000);

  it('a Redis that stalls: the request answers 503 at its deadline instead of hanging', async () => {
    const applicant = new Applicant(server.url);
    await applicant.start();
    expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('awaiting_user');
    const stall = spawn('redis-cli', ['-p', String(redis.port), 'debug', 'sleep', '3']);
    await sleep(500);
    const started = Date.now();
    const res = await applicant.get('/api/verification');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('dependency_unavailable');
    expect(Date.now() - started).toBeLessThan(1200);
    await new Promise((resolve) => stall.on('exit', resolve));
    await applicant.get('/readyz').expect(200);
  });
});
