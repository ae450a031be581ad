import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { inspectRedis, sleep, startTestSandbox, startTestServer, type TestServer } from '../support/harness';
import { Applicant } from '../support/applicant';

let sandbox: Sandbox;
let redis: Awaited<ReturnType<typeof inspectRedis>>;
let server: TestServer;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await inspectRedis();
});
afterEach(async () => {
  await server.close();
  await redis.dropPrefix(server.prefix);
  sandbox.configure({ reportDelayMs: 0, latencyMs: 0 });
  sandbox.script('report', []);
});
afterAll(async () => {
  await sandbox.close();
  await redis.close();
});

/** A completed flow; `before` runs just before the callback (the report job starts at once after it). */
async function completed(env: Record<string, string> = {}, before: () => void = () => undefined) {
  server = await startTestServer({ sandbox, env });
  const applicant = new Applicant(server.url);
  const callback = await applicant.startAndApprove();
  sandbox.resetStats();
  before();
  expect(await applicant.callback(callback)).toBe('/?verification=completed');
  return applicant;
}

const upstream = () => sandbox.stats().reportFetches.total;

describe('GET /api/verification while the report is pending', () => {
  it('40 concurrent polls add no upstream request: only the report job asks, once', async () => {
    sandbox.configure({ reportDelayMs: 60_000, latencyMs: 100 });
    const applicant = await completed({ REPORT_POLL_INTERVAL_MS: '5000' });
    const answers = await Promise.all(Array.from({ length: 40 }, () => applicant.get('/api/verification')));
    expect(answers.map((a) => a.body.status)).toEqual(Array(40).fill('processing'));
    await sleep(500);
    expect(upstream()).toBe(1);
  });

  it('asks the provider at most once per interval however often it is polled', async () => {
    sandbox.configure({ reportDelayMs: 60_000 });
    const applicant = await completed({
      REPORT_POLL_INTERVAL_MS: '500',
      RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: '100000',
    });
    const started = Date.now();
    let polls = 0;
    while (Date.now() - started < 2000) {
      await applicant.get('/api/verification').expect(200);
      polls++;
    }
    expect(polls).toBeGreaterThan(50);
    // 2 s at one request per 500 ms at most (backoff makes it fewer), plus the first.
    expect(upstream()).toBeLessThanOrEqual(5);
    expect(upstream()).toBeGreaterThanOrEqual(2);
  });

  it('answers Retry-After and no-store while processing', async () => {
    sandbox.configure({ reportDelayMs: 60_000 });
    const applicant = await completed({ REPORT_POLL_INTERVAL_MS: '2000' });
    const res = await applicant.get('/api/verification').expect(200);
    expect(res.body.status).toBe('processing');
    expect(res.headers['retry-after']).toBe('2');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('GET /api/verification once the report is ready', () => {
  it('serves it from the cache: the provider sees no further request', async () => {
    const applicant = await completed();
    await applicant.poll(['ready']);
    const fetched = upstream();
    for (let i = 0; i < 20; i++)
      expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('ready');
    expect(upstream()).toBe(fetched);
  });

  it('answers 304 with no body to If-None-Match with the current strong ETag', async () => {
    const applicant = await completed();
    const ready = await applicant.poll(['ready']);
    const etag = ready.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const notModified = await applicant.get('/api/verification').set('If-None-Match', etag).expect(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe(etag);
    await applicant.get('/api/verification').set('If-None-Match', '"something-else"').expect(200);
  });

  it('does not write the session on a poll', async () => {
    const applicant = await completed();
    await applicant.poll(['ready']);
    const sessionKey = (await redis.keysUnder(server.prefix)).find((k) => k.includes(':sess:')) as string;
    const before = { value: await redis.get(sessionKey), ttl: await redis.pTTL(sessionKey) };
    await sleep(50);
    for (let i = 0; i < 5; i++) await applicant.get('/api/verification').expect(200);
    expect(await redis.get(sessionKey)).toBe(before.value);
    // No touch: the TTL only ran down.
    expect(await redis.pTTL(sessionKey)).toBeLessThan(before.ttl);
  });
});

describe('upstream retry policy against injected faults', () => {
  it('404 (not ready) then ready: the poll ends ready', async () => {
    const applicant = await completed({}, () =>
      sandbox.script('report', [
        { status: 404, body: { error: { code: 1002, group: 'client', message: 'not found' } } },
        { status: 404, body: { error: { code: 1002, group: 'client', message: 'not found' } } },
      ]),
    );
    const res = await applicant.poll(['ready']);
    expect(res.body.report).toBeTruthy();
    expect(upstream()).toBe(3);
  });

  it('503 with Retry-After: no upstream request before it has passed', async () => {
    const applicant = await completed({ REPORT_POLL_INTERVAL_MS: '100' }, () =>
      sandbox.script('report', [{ status: 503, retryAfterS: 2 }]),
    );
    expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('processing');
    const started = Date.now();
    while (Date.now() - started < 1500) {
      expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('processing');
      await sleep(50);
    }
    expect(upstream()).toBe(1);
    const res = await applicant.poll(['ready'], 5000);
    expect(res.body.report).toBeTruthy();
    expect(upstream()).toBe(2);
  });

  it('400 is final: failed with report_unavailable, and the provider is not asked again', async () => {
    const applicant = await completed({}, () =>
      sandbox.script('report', [
        { status: 400, body: { error: { code: 1000, group: 'client', message: 'bad' } } },
      ]),
    );
    const res = await applicant.poll(['failed']);
    expect(res.body.error.code).toBe('report_unavailable');
    for (let i = 0; i < 5; i++) await applicant.get('/api/verification').expect(200);
    expect(upstream()).toBe(1);
  });

  it('a report that never becomes ready fails after the readiness deadline', async () => {
    sandbox.configure({ reportDelayMs: 60_000 });
    const applicant = await completed({ REPORT_READY_TIMEOUT_S: '1', REPORT_POLL_INTERVAL_MS: '100' });
    const res = await applicant.poll(['failed'], 5000);
    expect(res.body.error.code).toBe('report_timeout');
  });

  it('a provider timeout keeps the verification processing, then it recovers', async () => {
    const applicant = await completed(
      { FINX_REQUEST_TIMEOUT_MS: '200', REPORT_POLL_INTERVAL_MS: '100' },
      () => sandbox.script('report', [{ status: 0, delayMs: 600 }]),
    );
    expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('processing');
    await applicant.poll(['ready'], 5000);
  });
});

describe('poll rate limit', () => {
  it('answers 429 rate_limited with Retry-After past the per-session limit, on the fast and the Express path', async () => {
    const applicant = await completed({ RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: '5' });
    for (let i = 0; i < 5; i++) await applicant.get('/api/verification').expect(200);
    const fast = await applicant.get('/api/verification').expect(429);
    expect(fast.body.error).toMatchObject({ code: 'rate_limited', requestId: expect.any(String) });
    expect(Number(fast.headers['retry-after'])).toBeGreaterThan(0);
    const slow = await applicant.get('/API/verification').expect(429);
    expect(slow.body.error.code).toBe('rate_limited');
    // Another browser is not affected.
    await new Applicant(server.url).get('/api/verification').expect(200);
  });
});
