import type { Sandbox } from '../../src/sandbox/sandbox-server';
import {
  decideInWidget,
  followCallback,
  pollUntil,
  startFlow,
  startTestSandbox,
  startTestServer,
  type TestServer,
} from '../support/harness';

let sandbox: Sandbox;
let server: TestServer;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  server = await startTestServer({ sandbox, env: { LOG_LEVEL: 'debug' } });
});
afterAll(async () => {
  await server.close();
  await sandbox.close();
});

const fastLines = () => server.logs.lines.filter((l) => l.includes('"fastPath":true')).length;
const comparable = (headers: Record<string, string>) => {
  const { date: _date, 'x-request-id': _id, connection: _c, 'keep-alive': _k, ...rest } = headers;
  return rest;
};

describe('GET /api/verification fast path', () => {
  it('serves a live session without the Express stack, with exactly the answer the Express path gives', async () => {
    const agent = server.agent();
    await followCallback(agent, await decideInWidget(await startFlow(agent), 'approve'));
    await pollUntil(agent, ['ready']);

    const before = fastLines();
    const fast = await agent.get('/api/verification').expect(200);
    expect(fastLines()).toBe(before + 1);
    // Not the exact URL (Express routes are case-insensitive): the Express route answers it.
    const slow = await agent.get('/API/verification').expect(200);
    expect(fastLines()).toBe(before + 1);

    expect(fast.text).toBe(slow.text);
    expect(comparable(fast.headers as Record<string, string>)).toEqual(
      comparable(slow.headers as Record<string, string>),
    );
    expect(fast.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const notModified = await agent
      .get('/api/verification')
      .set('If-None-Match', fast.headers.etag as string)
      .expect(304);
    expect(notModified.text).toBe('');
    expect(fastLines()).toBe(before + 2);
  });

  it('answers pending states with Retry-After, like the Express path', async () => {
    const agent = server.agent();
    await startFlow(agent);
    const before = fastLines();
    const fast = await agent.get('/api/verification').expect(200);
    expect(fastLines()).toBe(before + 1);
    const slow = await agent.get('/API/verification').expect(200);
    expect(fast.body).toEqual({ status: 'awaiting_user', report: null, error: null });
    expect(comparable(fast.headers as Record<string, string>)).toEqual(
      comparable(slow.headers as Record<string, string>),
    );
  });

  it('leaves a tampered or foreign cookie to Express, which treats it as no session', async () => {
    const agent = server.agent();
    await startFlow(agent);
    const cookie = (await agent.get('/api/verification')).request.cookies as unknown as string;
    const forged = String(cookie).replace(
      /bff\.sid=([^;]*)/,
      (_m, v: string) => `bff.sid=${v.slice(0, -3)}AAA`,
    );
    const before = fastLines();
    const res = await server.agent().get('/api/verification').set('Cookie', forged).expect(200);
    expect(res.body.status).toBe('none');
    expect(fastLines()).toBe(before);
  });
});
