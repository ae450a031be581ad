import type { Sandbox } from '../../src/sandbox/sandbox-server';
import {
  HIGH_RATE_LIMITS,
  inspectRedis,
  startTestSandbox,
  startTestServer,
  type TestServer,
} from '../support/harness';
import { decideInWidget } from '../support/harness';
import { CookieBrowser } from '../support/scenarios';

let sandbox: Sandbox;
let a: TestServer;
let b: TestServer;
let redis: Awaited<ReturnType<typeof inspectRedis>>;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await inspectRedis();
  a = await startTestServer({ sandbox, env: { ...HIGH_RATE_LIMITS, POLL_MAX_WAIT_S: '3' } });
  // Another instance on the same data.
  b = await startTestServer({
    sandbox,
    prefix: a.prefix,
    env: { ...HIGH_RATE_LIMITS, POLL_MAX_WAIT_S: '3' },
  });
});
afterAll(async () => {
  await b.close();
  await a.close();
  await sandbox.close();
  await redis.close();
});

interface Started {
  browser: CookieBrowser;
  verificationId: string;
  etag: string;
}

/** A browser with a started verification (awaiting_user) and the ETag of that state. */
async function started(server: TestServer): Promise<Started> {
  const browser = new CookieBrowser();
  expect((await browser.get(`${server.url}/verification/start`)).status).toBe(302);
  const sid = decodeURIComponent((browser.cookie ?? '').split('=')[1] ?? '').slice(2);
  const session = await redis.get(`${server.prefix}sess:${sid.slice(0, sid.lastIndexOf('.'))}`);
  const verificationId = (JSON.parse(session ?? '{}') as { verificationId: string }).verificationId;
  const first = await poll(server, browser);
  expect(first.status).toBe(200);
  return { browser, verificationId, etag: first.headers.get('etag') ?? '' };
}

function poll(server: TestServer, browser: CookieBrowser, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/api/verification`, { headers: { cookie: browser.cookie ?? '', ...headers } });
}

const waiting = (etag: string, seconds = 3) => ({ prefer: `wait=${seconds}`, 'if-none-match': etag });

/** Changes the state through an instance's own store, as its background job or callback would. */
const fail = (server: TestServer, id: string) =>
  server.runtime.deps.verifications.transitionFresh(id, (meta) => ({
    meta: { ...meta, status: 'failed', error: { code: 'report_failed', message: 'failed in a test' } },
  }));

const until = async (check: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('GET /api/verification with Prefer: wait', () => {
  it('holds the request and answers it the moment another instance changes the state', async () => {
    const s = await started(a);
    const t0 = Date.now();
    const held = poll(a, s.browser, waiting(s.etag));
    await until(() => a.runtime.waiting.size === 1);
    await fail(b, s.verificationId);
    const res = await held;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=3');
    expect(res.headers.get('etag')).not.toBe(s.etag);
    expect(((await res.json()) as { status: string }).status).toBe('failed');
    expect(a.runtime.waiting.size).toBe(0);
  });

  it('answers 304 when the wait ends without a change', async () => {
    const s = await started(a);
    const t0 = Date.now();
    const res = await poll(a, s.browser, waiting(s.etag, 1));
    const took = Date.now() - t0;
    expect(res.status).toBe(304);
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(2000);
    expect(res.headers.get('preference-applied')).toBe('wait=1');
    expect(res.headers.get('etag')).toBe(s.etag);
  });

  it('caps the wait at POLL_MAX_WAIT_S', async () => {
    const s = await started(a);
    const t0 = Date.now();
    const res = await poll(a, s.browser, waiting(s.etag, 3600));
    expect(res.status).toBe(304);
    expect(res.headers.get('preference-applied')).toBe('wait=3');
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('answers at once, as without Prefer, when the ETag is not current or no If-None-Match is given', async () => {
    const s = await started(a);
    const variants: Array<Record<string, string>> = [
      { prefer: 'wait=3', 'if-none-match': '"other"' },
      { prefer: 'wait=3' },
    ];
    for (const headers of variants) {
      const t0 = Date.now();
      const res = await poll(a, s.browser, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('preference-applied')).toBeNull();
      expect(Date.now() - t0).toBeLessThan(500);
    }
  });

  it('holds at most 4 requests per session; the fifth is answered at once', async () => {
    const s = await started(a);
    const held = [1, 2, 3, 4].map(() => poll(a, s.browser, waiting(s.etag)));
    await until(() => a.runtime.waiting.size === 4);
    const t0 = Date.now();
    const fifth = await poll(a, s.browser, waiting(s.etag));
    expect(Date.now() - t0).toBeLessThan(500);
    expect(fifth.status).toBe(304);
    expect(fifth.headers.get('preference-applied')).toBeNull();
    // Another session still waits.
    const other = await started(a);
    const otherHeld = poll(a, other.browser, waiting(other.etag));
    await until(() => a.runtime.waiting.size === 5);
    await fail(b, s.verificationId);
    await fail(b, other.verificationId);
    for (const res of await Promise.all([...held, otherHeld])) expect(res.status).toBe(200);
  });

  it('forgets a request whose client went away', async () => {
    const s = await started(a);
    const controller = new AbortController();
    const held = fetch(`${a.url}/api/verification`, {
      headers: { cookie: s.browser.cookie ?? '', ...waiting(s.etag) },
      signal: controller.signal,
    }).catch(() => 'aborted');
    await until(() => a.runtime.waiting.size === 1);
    controller.abort();
    expect(await held).toBe('aborted');
    await until(() => a.runtime.waiting.size === 0);
  });

  it('a killed pub/sub connection: the request still ends by its wait, and later changes still wake', async () => {
    const s = await started(a);
    const held = poll(a, s.browser, waiting(s.etag, 2));
    await until(() => a.runtime.waiting.size === 1);
    const list = await redis.sendCommand<string>(['CLIENT', 'LIST', 'TYPE', 'pubsub']);
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${a.prefix}changes `))
      .map((line) => /\bid=(\d+)/.exec(line)?.[1] as string);
    expect(ids.length).toBe(2); // a's and b's subscribers
    for (const id of ids) await redis.sendCommand(['CLIENT', 'KILL', 'ID', id]);
    const t0 = Date.now();
    const res = await held;
    // Unchanged after the re-read on reconnect: it ends by its wait.
    expect(res.status).toBe(304);
    expect(Date.now() - t0).toBeLessThan(2500);

    // Resubscribed: a change made on the other instance wakes a new waiting request.
    const s2 = await started(a);
    await new Promise((r) => setTimeout(r, 500));
    const t1 = Date.now();
    const held2 = poll(a, s2.browser, waiting(s2.etag));
    await until(() => a.runtime.waiting.size === 1);
    await fail(b, s2.verificationId);
    const res2 = await held2;
    expect(res2.status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(1500);
  });

  it('a poll held across the callback is answered once the callback has renewed the cookie, so the next poll finds the verification', async () => {
    const browser = new CookieBrowser();
    const start = await browser.get(`${a.url}/verification/start`);
    const first = await poll(a, browser);
    const oldCookie = browser.cookie as string;
    let heldAt = 0;
    const held = poll(a, browser, waiting(first.headers.get('etag') as string)).then((res) => {
      heldAt = Date.now();
      return res;
    });
    await until(() => a.runtime.waiting.size === 1);
    const callback = new URL(await decideInWidget(start.headers.get('location') as string, 'approve'));
    // Its answer renews the session cookie.
    const back = await browser.get(`${a.url}${callback.pathname}${callback.search}`);
    const callbackAnsweredAt = Date.now();
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe('/?verification=completed');
    expect(browser.cookie).not.toBe(oldCookie);
    const res = await held;
    expect(res.status).toBe(200);
    expect(heldAt).toBeGreaterThanOrEqual(callbackAnsweredAt);
    const next = await poll(a, browser);
    expect(['processing', 'ready']).toContain(((await next.json()) as { status: string }).status);
  });

  it('deleting the verification wakes its waiting request', async () => {
    const s = await started(a);
    const held = poll(a, s.browser, waiting(s.etag));
    await until(() => a.runtime.waiting.size === 1);
    await b.runtime.deps.verifications.removeAll(s.verificationId);
    const res = await held;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('expired');
  });
});

describe('POLL_MAX_WAITING', () => {
  let capped: TestServer;
  beforeAll(async () => {
    capped = await startTestServer({
      sandbox,
      env: { ...HIGH_RATE_LIMITS, POLL_MAX_WAITING: '2', POLL_MAX_WAIT_S: '2' },
    });
  });
  afterAll(async () => {
    await capped.close();
  });

  it('answers at once past the per-process bound', async () => {
    const sessions = [await started(capped), await started(capped), await started(capped)];
    const held = sessions.slice(0, 2).map((s) => poll(capped, s.browser, waiting(s.etag)));
    await until(() => capped.runtime.waiting.size === 2);
    const third = sessions[2] as Started;
    const t0 = Date.now();
    const res = await poll(capped, third.browser, waiting(third.etag));
    expect(Date.now() - t0).toBeLessThan(500);
    expect(res.status).toBe(304);
    expect(res.headers.get('preference-applied')).toBeNull();
    expect(capped.runtime.releaseWaiting()).toBe(2);
    for (const r of await Promise.all(held)) expect(r.status).toBe(304);
  });
});

describe('without Redis (embedded mode)', () => {
  let embedded: TestServer;
  beforeAll(async () => {
    embedded = await startTestServer({
      sandbox,
      redis: false,
      env: { ...HIGH_RATE_LIMITS, POLL_MAX_WAIT_S: '3' },
    });
  });
  afterAll(async () => {
    await embedded.close();
  });

  it('a held poll is answered when the state changes in this process', async () => {
    const browser = new CookieBrowser();
    await browser.get(`${embedded.url}/verification/start`);
    const first = await poll(embedded, browser);
    const held = poll(embedded, browser, waiting(first.headers.get('etag') as string));
    await until(() => embedded.runtime.waiting.size === 1);
    const [id] = [...(embedded.runtime.waiting as unknown as { byId: Map<string, unknown> }).byId.keys()];
    await fail(embedded, id as string);
    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=3');
    expect(((await res.json()) as { status: string }).status).toBe('failed');
  });
});
