import type { Sandbox } from '../../src/sandbox/sandbox-server';
import {
  HIGH_RATE_LIMITS,
  inspectRedis,
  startTestSandbox,
  startTestServer,
  type TestServer,
} from '../support/harness';
import { Applicant } from '../support/applicant';

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
  applicant: Applicant;
  verificationId: string;
  etag: string;
}

/** A browser with a started verification (awaiting_user) and the ETag of that state. */
async function started(server: TestServer): Promise<Started> {
  const applicant = new Applicant(server.url);
  await applicant.start();
  const sid = decodeURIComponent(applicant.session.split('=')[1] ?? '').slice(2);
  const session = await redis.get(`${server.prefix}sess:${sid.slice(0, sid.lastIndexOf('.'))}`);
  const verificationId = (JSON.parse(session ?? '{}') as { verificationId: string }).verificationId;
  const first = await poll(server, applicant);
  expect(first.status).toBe(200);
  return { applicant, verificationId, etag: first.headers.get('etag') ?? '' };
}

/** A poll with fetch: it is on its way at once, so it can be held while the test changes the state. */
function poll(server: TestServer, applicant: Applicant, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/api/verification`, { headers: { cookie: applicant.cookie ?? '', ...headers } });
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
    const held = poll(a, s.applicant, waiting(s.etag));
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
    const res = await poll(a, s.applicant, waiting(s.etag, 1));
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
    const res = await poll(a, s.applicant, waiting(s.etag, 3600));
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
      const res = await poll(a, s.applicant, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('preference-applied')).toBeNull();
      expect(Date.now() - t0).toBeLessThan(500);
    }
  });

  it('holds at most 4 requests per session; the fifth is answered at once', async () => {
    const s = await started(a);
    const held = [1, 2, 3, 4].map(() => poll(a, s.applicant, waiting(s.etag)));
    await until(() => a.runtime.waiting.size === 4);
    const t0 = Date.now();
    const fifth = await poll(a, s.applicant, waiting(s.etag));
    expect(Date.now() - t0).toBeLessThan(500);
    expect(fifth.status).toBe(304);
    expect(fifth.headers.get('preference-applied')).toBeNull();
    // Another session still waits.
    const other = await started(a);
    const otherHeld = poll(a, other.applicant, waiting(other.etag));
    await until(() => a.runtime.waiting.size === 5);
    await fail(b, s.verificationId);
    await fail(b, other.verificationId);
    for (const res of await Promise.all([...held, otherHeld])) expect(res.status).toBe(200);
  });

  it('forgets a request whose client went away', async () => {
    const s = await started(a);
    const controller = new AbortController();
    const held = fetch(`${a.url}/api/verification`, {
      headers: { cookie: s.applicant.cookie ?? '', ...waiting(s.etag) },
      signal: controller.signal,
    }).catch(() => 'aborted');
    await until(() => a.runtime.waiting.size === 1);
    controller.abort();
    expect(await held).toBe('aborted');
    await until(() => a.runtime.waiting.size === 0);
  });

  it('a killed pub/sub connection: the request still ends by its wait, and later changes still wake', async () => {
    const s = await started(a);
    const held = poll(a, s.applicant, waiting(s.etag, 2));
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
    const held2 = poll(a, s2.applicant, waiting(s2.etag));
    await until(() => a.runtime.waiting.size === 1);
    await fail(b, s2.verificationId);
    const res2 = await held2;
    expect(res2.status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(1500);
  });

  it('a poll held across the callback is answered once the callback has renewed the cookie, so the next poll finds the verification', async () => {
    const applicant = new Applicant(a.url);
    const widget = await applicant.start();
    const first = await poll(a, applicant);
    const oldCookie = applicant.session;
    let heldAt = 0;
    const held = poll(a, applicant, waiting(first.headers.get('etag') as string)).then((res) => {
      heldAt = Date.now();
      return res;
    });
    await until(() => a.runtime.waiting.size === 1);
    const callback = await applicant.approveInWidget(widget);
    // Its answer renews the session cookie.
    const back = await applicant.callback(callback);
    const callbackAnsweredAt = Date.now();
    expect(back).toBe('/?verification=completed');
    expect(applicant.cookie).not.toBe(oldCookie);
    const res = await held;
    expect(res.status).toBe(200);
    expect(heldAt).toBeGreaterThanOrEqual(callbackAnsweredAt);
    const next = await poll(a, applicant);
    expect(['processing', 'ready']).toContain(((await next.json()) as { status: string }).status);
  });

  it('deleting the verification wakes its waiting request', async () => {
    const s = await started(a);
    const held = poll(a, s.applicant, waiting(s.etag));
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
    const held = sessions.slice(0, 2).map((s) => poll(capped, s.applicant, waiting(s.etag)));
    await until(() => capped.runtime.waiting.size === 2);
    const third = sessions[2] as Started;
    const t0 = Date.now();
    const res = await poll(capped, third.applicant, waiting(third.etag));
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
    const applicant = new Applicant(embedded.url);
    await applicant.start();
    const first = await poll(embedded, applicant);
    const held = poll(embedded, applicant, waiting(first.headers.get('etag') as string));
    await until(() => embedded.runtime.waiting.size === 1);
    const [id] = [...(embedded.runtime.waiting as unknown as { byId: Map<string, unknown> }).byId.keys()];
    await fail(embedded, id as string);
    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=3');
    expect(((await res.json()) as { status: string }).status).toBe('failed');
  });
});
