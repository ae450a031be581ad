import { createPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { HIGH_RATE_LIMITS, startTestServer, type TestServer, useSharedServer } from '../support/harness';
import { Applicant } from '../support/applicant';

/**
 * The poll handler answers every GET of /api/verification outside Express. Its answers must carry
 * what the Express app's answers carry: the same security headers, the same error shape and
 * Retry-After, a kept incoming X-Request-Id.
 */
const shared = useSharedServer({
  env: {
    ...HIGH_RATE_LIMITS,
    RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: '20',
    RATE_LIMIT_STARTS_PER_SESSION_PER_HOUR: '1',
    POLL_MAX_WAIT_S: '1',
  },
});

type Headers = Record<string, string>;
const headersOf = (res: Response): Headers => Object.fromEntries(res.headers.entries());
/** What differs between any two answers: their time, id, length and connection handling. */
const comparable = (headers: Headers) => {
  const {
    date: _d,
    'x-request-id': _id,
    'content-length': _l,
    connection: _c,
    'keep-alive': _k,
    etag: _e,
    'retry-after': _r,
    ...rest
  } = headers;
  return rest;
};
const ID = 'parity-test-request-1';

async function expressAnswer(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${shared.server.url}${path}`, init);
}

describe('GET /api/verification (the poll handler) answers like the Express app', () => {
  it('200 and 304: the security headers of every answer, the ETag, and an incoming X-Request-Id', async () => {
    const applicant = new Applicant(shared.server.url);
    await applicant.callback(await applicant.startAndApprove());
    await applicant.poll(['ready']);
    const ok = await applicant.get('/api/verification').set('X-Request-Id', ID).expect(200);
    expect(ok.headers['x-request-id']).toBe(ID);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(ok.body.status).toBe('ready');
    // An Express answer under /api (a 404): the same header set apart from the body's.
    const other = headersOf(await expressAnswer('/api/nothing-here'));
    const { 'content-type': _t, ...pollRest } = comparable(ok.headers as Headers);
    const { 'content-type': _t2, ...otherRest } = comparable(other);
    expect(pollRest).toEqual(otherRest);

    // Every spelling the Express router would have matched, and HEAD, reach the same handler.
    for (const path of ['/API/verification', '/api/verification/']) {
      const same = await applicant.get(path).expect(200);
      expect(same.text).toBe(ok.text);
      expect(comparable(same.headers as Headers)).toEqual(comparable(ok.headers as Headers));
    }
    const head = await applicant.head('/api/verification').expect(200);
    expect(head.headers.etag).toBe(ok.headers.etag);

    const notModified = await applicant
      .get('/api/verification')
      .set('If-None-Match', ok.headers.etag as string)
      .set('X-Request-Id', 'bad id with spaces')
      .expect(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(notModified.headers.etag).toBe(ok.headers.etag);
  });

  it('a query string is refused as the Express route refused it (400, the one error shape)', async () => {
    const res = await expressAnswer('/api/verification?x=1', { headers: { 'x-request-id': ID } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'invalid_request', message: 'This endpoint takes no query parameters.', requestId: ID },
    });
  });

  it('429: the poll limit, with Retry-After and the headers of an Express 429', async () => {
    const applicant = new Applicant(shared.server.url);
    await applicant.start();
    let limited: Response | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const res = await fetch(`${shared.server.url}/api/verification`, {
        headers: { cookie: applicant.session, 'x-request-id': ID },
      });
      if (res.status === 429) limited = res;
    }
    if (!limited) throw new Error('never limited');
    const body = (await limited.json()) as { error: { code: string; requestId: string } };
    expect(body.error).toMatchObject({ code: 'rate_limited', requestId: ID });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-request-id')).toBe(ID);
    // The same browser's second start in the hour: Express' 429.
    const expressLimited = await expressAnswer('/verification/start', {
      headers: { cookie: applicant.session },
      redirect: 'manual',
    });
    expect(expressLimited.status).toBe(429);
    expect(comparable(headersOf(limited))).toEqual(comparable(headersOf(expressLimited)));
    expect(limited.headers.get('retry-after')).not.toBeNull();
    expect(expressLimited.headers.get('retry-after')).not.toBeNull();
  });

  it('long-poll answers (held, then 304 at the end of the wait) carry the same headers plus Preference-Applied', async () => {
    const applicant = new Applicant(shared.server.url);
    await applicant.start();
    const first = await fetch(`${shared.server.url}/api/verification`, {
      headers: { cookie: applicant.session },
    });
    const etag = first.headers.get('etag') as string;
    const held = await fetch(`${shared.server.url}/api/verification`, {
      headers: { cookie: applicant.session, prefer: 'wait=5', 'if-none-match': etag, 'x-request-id': ID },
    });
    expect(held.status).toBe(304);
    expect(held.headers.get('preference-applied')).toBe('wait=1');
    expect(held.headers.get('x-request-id')).toBe(ID);
    expect(held.headers.get('etag')).toBe(etag);
    expect(held.headers.get('retry-after')).toBe(first.headers.get('retry-after'));
    const { 'preference-applied': _p, ...rest } = comparable(headersOf(held));
    const { 'content-type': _t, ...firstRest } = comparable(headersOf(first));
    expect(rest).toEqual(firstRest);
  });
});

describe('GET /api/verification while Redis is down', () => {
  let redis: PrivateRedis;
  let down: TestServer;
  beforeAll(async () => {
    redis = await createPrivateRedis();
    await redis.start();
    down = await startTestServer({
      sandbox: shared.sandbox,
      env: {
        ...HIGH_RATE_LIMITS,
        REDIS_URL: redis.url,
        REDIS_COMMAND_TIMEOUT_MS: '300',
        METRICS_TOKEN: 'metrics-token-0123456789',
      },
    });
  });
  afterAll(async () => {
    await down.close().catch(() => undefined);
    redis.stop();
    redis.cleanup();
  });

  it('503 dependency_unavailable, counted in bff_store_errors_total, shaped like an Express 503', async () => {
    const applicant = new Applicant(down.url);
    await applicant.start();
    redis.stop();
    const poll = await fetch(`${down.url}/api/verification`, {
      headers: { cookie: applicant.session, 'x-request-id': ID },
    });
    expect(poll.status).toBe(503);
    expect(await poll.json()).toEqual({
      error: {
        code: 'dependency_unavailable',
        message: 'A backing service is unavailable. Please retry shortly.',
        requestId: ID,
      },
    });
    expect(poll.headers.get('retry-after')).toBe('2');
    const viaExpress = await fetch(`${down.url}/api/verification`, {
      method: 'DELETE',
      headers: { cookie: applicant.session, 'content-type': 'application/json' },
    });
    expect(viaExpress.status).toBe(503);
    expect(comparable(headersOf(poll))).toEqual(comparable(headersOf(viaExpress)));
    expect(poll.headers.get('retry-after')).toBe(viaExpress.headers.get('retry-after'));
    const metrics = await (
      await fetch(`${down.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } })
    ).text();
    const line = metrics.split('\n').find((l) => l.startsWith('bff_store_errors_total '));
    expect(Number(line?.split(' ').pop())).toBeGreaterThanOrEqual(2);
    expect(down.logs.text()).toContain('"requestId":"parity-test-request-1"');
  });
});
