import http from 'node:http';
import request from 'supertest';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { buildIncomeReport } from '../../src/sandbox/income-report';
import {
  inspectRedis,
  startTestSandbox,
  startTestServer,
  TEST_CLIENT,
  type TestServer,
  holdsData,
} from '../support/harness';
import { Applicant } from '../support/applicant';

let sandbox: Sandbox;
let server: TestServer;
let redis: Awaited<ReturnType<typeof inspectRedis>>;
let now = Date.now();

beforeAll(async () => {
  sandbox = await startTestSandbox({ reportDelayMs: 300 });
  redis = await inspectRedis();
});
beforeEach(async () => {
  now = Date.now();
  sandbox.resetStats();
  server = await startTestServer({ sandbox, runtime: { clock: () => now } });
});
afterEach(async () => {
  await server.close();
  await redis.dropPrefix(server.prefix);
});
afterAll(async () => {
  await sandbox.close();
  await redis.close();
});

/** Everything but rate-limit counters, which hold no user data. */
const keysOf = async () => (await redis.keysUnder(server.prefix)).filter((k) => !k.includes(':rl:'));
const nonSessionKeys = async () => (await keysOf()).filter((k) => !k.includes(':sess:') && holdsData(k));

describe('GET /verification/start', () => {
  it('creates a widget link with a fresh state and redirects the browser there', async () => {
    const applicant = new Applicant(server.url);
    const res = await applicant
      .get('/verification/start?language=de&iban=DE89370400440532013000')
      .expect(302);
    const location = new URL(res.headers.location as string);
    expect(location.origin).toBe(new URL(sandbox.url).origin);
    expect(location.pathname).toBe('/widget');
    expect(res.headers['set-cookie']?.[0]).toMatch(/^bff\.sid=.*HttpOnly.*SameSite=Lax/i);
    expect(sandbox.stats().linksCreated).toBe(1);
    const poll = await applicant.get('/api/verification').expect(200);
    expect(poll.body).toEqual({ status: 'awaiting_user', report: null, error: null });
    expect(poll.headers['retry-after']).toBe('1');
    expect(poll.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['?iban=DE00123', 'invalid_iban'],
    ['?iban=DE89370400440532013001', 'invalid_iban'],
    ['?language=xx', 'invalid_language'],
    ['?language=de&language=en', 'invalid_language'],
    ['?unknown=1', 'invalid_request'],
  ])('refuses %s with 400 %s and starts nothing', async (query, code) => {
    const res = await new Applicant(server.url).get(`/verification/start${query}`).expect(400);
    expect(res.body.error).toMatchObject({ code, requestId: expect.any(String) });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(sandbox.stats().linksCreated).toBe(0);
    expect(await keysOf()).toEqual([]);
  });
});

describe('the whole flow', () => {
  it('approve: callback exchanges the code, keeps tokens server-side, and the poll ends with the report', async () => {
    const applicant = new Applicant(server.url);
    const widget = await applicant.start();
    const callback = await applicant.approveInWidget(widget);
    const cookieBefore = applicant.cookie;

    expect(await applicant.callback(callback)).toBe('/?verification=completed');
    expect(sandbox.stats().codeExchanges).toBe(1);
    const processing = await applicant.get('/api/verification').expect(200);
    expect(['processing', 'ready']).toContain(processing.body.status);

    const ready = await applicant.poll(['ready']);
    expect(ready.body.error).toBeNull();
    expect(ready.body.report).toEqual(buildIncomeReport(callback.flowId, 12));
    expect(ready.headers['retry-after']).toBeUndefined();

    // The report lives in its own key, never in the session blob, and never in clear; the tokens
    // (their own key while the report was pending) are gone: one-time access drops them with the report.
    const keys = await keysOf();
    expect(keys.some((k) => k.endsWith(':tokens'))).toBe(false);
    expect(keys.some((k) => k.endsWith(':report'))).toBe(true);
    const sessionKeys = keys.filter((k) => k.includes(':sess:'));
    expect(sessionKeys).toHaveLength(1);
    const sessionBlob = (await redis.get(sessionKeys[0] as string)) as string;
    expect(sessionBlob).not.toMatch(/token/i);
    // The session id was regenerated on completion.
    expect(applicant.cookie).not.toBe(cookieBefore);
  });

  it('cancel: the browser comes back with verification=cancelled and nothing is exchanged', async () => {
    const applicant = new Applicant(server.url);
    const callback = await applicant.decideInWidget(await applicant.start(), 'cancel');
    expect(await applicant.callback(callback)).toBe('/?verification=cancelled');
    const poll = await applicant.get('/api/verification').expect(200);
    expect(poll.body).toEqual({ status: 'cancelled', report: null, error: null });
    expect(poll.headers['retry-after']).toBeUndefined();
    expect(sandbox.stats().codeExchanges).toBe(0);
    expect((await keysOf()).some((k) => k.endsWith(':tokens'))).toBe(false);
  });

  it('fail: the browser comes back with verification=failed and a reason', async () => {
    const applicant = new Applicant(server.url);
    const callback = await applicant.decideInWidget(await applicant.start(), 'fail');
    expect(await applicant.callback(callback)).toBe('/?verification=failed&reason=bank_connection_failed');
    const poll = await applicant.get('/api/verification').expect(200);
    expect(poll.body).toMatchObject({
      status: 'failed',
      report: null,
      error: { code: 'bank_connection_failed' },
    });
  });

  it('a code the provider rejects: failed with code_rejected, no tokens stored', async () => {
    const applicant = new Applicant(server.url);
    const callback = await applicant.startAndApprove();
    sandbox.script('token', [
      { status: 400, body: { error: { code: 1000, group: 'client', message: 'invalid_grant' } } },
    ]);
    expect(await applicant.callback(callback)).toBe('/?verification=failed&reason=code_rejected');
    expect((await keysOf()).some((k) => k.endsWith(':tokens'))).toBe(false);
    expect((await applicant.get('/api/verification')).body.status).toBe('failed');
  });
});

describe('GET /callback refuses what it must', () => {
  it('a callback with no session: invalid_state, no exchange, nothing stored', async () => {
    const callback = await new Applicant(server.url).startAndApprove();
    const before = await keysOf();
    expect(await new Applicant(server.url).callback(callback)).toBe(
      '/?verification=failed&reason=invalid_state',
    );
    expect(sandbox.stats().codeExchanges).toBe(0);
    expect(await keysOf()).toEqual(before);
  });

  it('a wrong state: invalid_state, and the real flow can still complete', async () => {
    const applicant = new Applicant(server.url);
    const callback = await applicant.startAndApprove();
    const forged = new URL(callback.url);
    forged.searchParams.set('state', 'x'.repeat(43));
    expect(await applicant.callback(forged.toString())).toBe('/?verification=failed&reason=invalid_state');
    expect(sandbox.stats().codeExchanges).toBe(0);
    expect(await applicant.callback(callback)).toBe('/?verification=completed');
  });

  it('a reused state: refused the second time, with one exchange in all', async () => {
    const applicant = new Applicant(server.url);
    const callback = await applicant.startAndApprove();
    expect(await applicant.callback(callback)).toBe('/?verification=completed');
    expect(await applicant.callback(callback)).toBe('/?verification=failed&reason=invalid_state');
    expect(sandbox.stats().codeExchanges + sandbox.stats().codeExchangesRejected).toBe(1);
  });

  it('success=true without a code: invalid_callback, the state is not consumed', async () => {
    const applicant = new Applicant(server.url);
    const callback = await applicant.startAndApprove();
    const noCode = new URL(callback.url);
    noCode.searchParams.delete('code');
    const before = await keysOf();
    expect(await applicant.callback(noCode.toString())).toBe('/?verification=failed&reason=invalid_callback');
    expect(await keysOf()).toEqual(before);
    expect(await applicant.callback(callback)).toBe('/?verification=completed');
  });

  it('two callbacks with the same state at once: exactly one exchange reaches the provider', async () => {
    const applicant = new Applicant(server.url);
    const callback = await applicant.startAndApprove();
    const outcomes = await Promise.all([applicant.callback(callback), applicant.callback(callback)]);
    expect(outcomes.sort()).toEqual(
      [
        '/?verification=completed',
        expect.stringMatching(/^\/\?verification=failed&reason=(invalid_state|state_already_used)$/),
      ].sort(),
    );
    expect(sandbox.stats().codeExchanges + sandbox.stats().codeExchangesRejected).toBe(1);
  });

  it('two tabs of one session start flows one after the other and finish in the opposite order: both are accepted', async () => {
    const applicant = new Applicant(server.url);
    const first = await applicant.start();
    const second = await applicant.start();
    const secondCallback = await applicant.approveInWidget(second);
    const firstCallback = await applicant.approveInWidget(first);
    expect(await applicant.callback(secondCallback)).toBe('/?verification=completed');
    expect(await applicant.callback(firstCallback)).toBe('/?verification=completed');
    expect(sandbox.stats().codeExchanges).toBe(2);
    // The session shows the verification completed last.
    const ready = await applicant.poll(['ready']);
    expect(ready.body.report).toEqual(buildIncomeReport(firstCallback.flowId, 12));
  });

  it('a flow never finished reaches expired after its TTL', async () => {
    const applicant = new Applicant(server.url);
    await applicant.start();
    expect((await applicant.get('/api/verification')).body.status).toBe('awaiting_user');
    now += 1801 * 1000;
    const res = await applicant.get('/api/verification').expect(200);
    expect(res.body).toMatchObject({ status: 'expired', error: { code: 'flow_expired' } });
  });
});

describe('popup and iframe modes', () => {
  it('POST /api/verification answers the widget location; POST /api/verification/callback completes it', async () => {
    const applicant = new Applicant(server.url);
    const created = await applicant
      .post('/api/verification')
      .set('Content-Type', 'application/json')
      .send({ language: 'en' })
      .expect(201);
    expect(created.body).toEqual({
      status: 'awaiting_user',
      location: expect.stringContaining(`${sandbox.url}/widget?token=`),
      widgetOrigins: [sandbox.url],
    });
    const callback = await applicant.approveInWidget(created.body.location);
    const done = await applicant
      .post('/api/verification/callback')
      .set('Content-Type', 'application/json')
      .send(callback.params)
      .expect(200);
    expect(done.body).toEqual({ status: 'processing', error: null });
    await applicant.poll(['ready']);
  });

  it('the iframe callback answers errors in the JSON shape', async () => {
    const res = await new Applicant(server.url)
      .post('/api/verification/callback')
      .set('Content-Type', 'application/json')
      .send({ state: 'nope', success: 'true', code: 'abc' })
      .expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_state', requestId: expect.any(String) });
  });
});

describe('DELETE /api/verification', () => {
  it('forgets tokens, report and state at once', async () => {
    const applicant = new Applicant(server.url);
    await applicant.callback(await applicant.startAndApprove());
    await applicant.poll(['ready']);
    expect((await nonSessionKeys()).length).toBeGreaterThan(0);
    await applicant.delete('/api/verification').set('Content-Type', 'application/json').expect(204);
    expect(await nonSessionKeys()).toEqual([]);
    expect((await applicant.get('/api/verification')).body.status).toBe('none');
  });

  it('also removes a pending flow', async () => {
    const applicant = new Applicant(server.url);
    await applicant.start();
    await applicant.delete('/api/verification').set('Content-Type', 'application/json').expect(204);
    expect(await nonSessionKeys()).toEqual([]);
  });
});

describe('secrets stay secret', () => {
  it('no token, code or client secret appears in the logs of a full flow', async () => {
    const applicant = new Applicant(server.url);
    const callback = await applicant.startAndApprove('?iban=DE89370400440532013000');
    await applicant.callback(callback);
    // Read while the report is pending (300 ms): one-time access drops the tokens with the report.
    const tokensKey = (await keysOf()).find((k) => k.endsWith(':tokens')) as string;
    const tokens = JSON.parse(
      server.runtime.deps.cipher.open((await redis.get(tokensKey)) as string, tokensKey),
    );
    await applicant.poll(['ready']);
    const logs = server.logs.text();
    expect(logs).toContain('verification completed');
    for (const secret of [
      tokens.accessToken,
      tokens.refreshToken,
      callback.code,
      callback.state,
      TEST_CLIENT.clientSecret,
      'DE89370400440532013000',
    ]) {
      expect(secret).toBeTruthy();
      expect(logs).not.toContain(secret);
    }
  });
});

describe('health', () => {
  it('GET /healthz and /readyz answer 200 when Redis answers', async () => {
    await request(server.url).get('/healthz').expect(200, { status: 'ok' });
    await request(server.url).get('/readyz').expect(200, { status: 'ready' });
  });
});

describe('methods an endpoint does not take', () => {
  it.each([
    ['put', '/api/verification', 'GET, HEAD, POST, DELETE'],
    ['patch', '/api/verification/callback', 'POST'],
    ['post', '/healthz', 'GET, HEAD'],
    ['delete', '/callback', 'GET, HEAD'],
  ] as const)('%s %s: 405 method_not_allowed with Allow', async (method, path, allow) => {
    const res = await request(server.url)[method](path).set('Content-Type', 'application/json').send('{}');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.body.error).toMatchObject({ code: 'method_not_allowed', requestId: expect.any(String) });
  });
});

describe('answers outside the routes', () => {
  it('HEAD /callback with a bad state redirects like GET', async () => {
    const res = await new Applicant(server.url).head('/callback?state=nope&success=true&code=x').expect(302);
    expect(res.headers.location).toBe('/?verification=failed&reason=invalid_state');
  });

  it('oversized headers: 431 in the JSON shape, with nosniff and no-store', async () => {
    const res = await new Promise<http.IncomingMessage & { body: string }>((resolve, reject) => {
      const req = http.get(
        `${server.url}/api/verification`,
        { headers: { 'x-big': 'a'.repeat(20_000) } },
        (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c.toString()));
          r.on('end', () => resolve(Object.assign(r, { body })));
        },
      );
      req.on('error', reject);
    });
    expect(res.statusCode).toBe(431);
    expect(JSON.parse(res.body).error.code).toBe('headers_too_large');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
