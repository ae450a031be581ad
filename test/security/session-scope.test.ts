import net from 'node:net';
import { readSignedSessionId } from '../../src/http/session-cookie';
import {
  HIGH_RATE_LIMITS,
  holdsData,
  startTestServer,
  type TestServer,
  useSharedServer,
} from '../support/harness';
import { Applicant } from '../support/applicant';
import { closeClients, send, sessionCookieOf, snapshotRedis } from './security-support';

const shared = useSharedServer({ env: HIGH_RATE_LIMITS });
afterAll(() => {
  closeClients();
});

const JSON_TYPE = { 'content-type': 'application/json' };
const userKeys = async (prefix: string) =>
  Object.keys(await snapshotRedis(shared.redis, prefix)).filter((k) => !k.includes(':sess:') && holdsData(k));

describe('DELETE /api/verification forgets everything the session started (B7)', () => {
  it('an earlier verification, the current one and a flow pending in another tab: nothing remains, nothing completes', async () => {
    // Earlier verification: completed, report fetched.
    const applicant = new Applicant(shared.server.url);
    await applicant.completeFlow();
    await applicant.poll(['ready']);
    // Another tab of the same browser starts a flow and approves it, but has not come back yet.
    const otherTab = await applicant.startAndApprove();
    // The current verification: started and completed after that.
    await applicant.completeFlow();
    await applicant.poll(['ready']);
    expect(await userKeys(shared.server.prefix)).not.toEqual([]);

    const deleted = await send(shared.server.url, '/api/verification', {
      method: 'DELETE',
      cookie: applicant.session,
      headers: JSON_TYPE,
    });
    expect(deleted.status).toBe(204);

    // No flow, meta, token or report record of this browser remains (only rate-limit counters).
    expect(await userKeys(shared.server.prefix)).toEqual([]);
    const exchanges = shared.sandbox.stats().codeExchanges;
    const late = await send(shared.server.url, `/callback${otherTab.search}`, { cookie: applicant.session });
    expect(late.headers.location).toBe('/?verification=failed&reason=invalid_state');
    expect(shared.sandbox.stats().codeExchanges).toBe(exchanges);
    expect(await userKeys(shared.server.prefix)).toEqual([]);
  });

  it("leaves another browser's verification alone", async () => {
    const mine = new Applicant(shared.server.url);
    await mine.completeFlow();
    await mine.poll(['ready']);
    const theirs = new Applicant(shared.server.url);
    const theirFlow = await theirs.startAndApprove();
    await send(shared.server.url, '/api/verification', {
      method: 'DELETE',
      cookie: mine.session,
      headers: JSON_TYPE,
    });
    expect(await theirs.callback(theirFlow)).toBe('/?verification=completed');
  });
});

describe('one cookie, one answer: the fast poll path and express-session pick the same session (B9)', () => {
  const secret = 'a-test-session-secret-of-at-least-32-chars';
  let awaiting: string;
  let cancelled: string;

  beforeAll(async () => {
    const waiting = new Applicant(shared.server.url);
    await waiting.startAndApprove();
    awaiting = waiting.session;
    const canceller = new Applicant(shared.server.url);
    const flow = await canceller.startAndApprove();
    await canceller.callback(`/callback${flow.search.replace('success=true', 'success=false')}&cancel=true`);
    cancelled = canceller.session;
  });

  const value = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1);
  const headers = (): Array<[string, string]> => [
    ['duplicated names, awaiting first', `bff.sid=${value(awaiting)}; bff.sid=${value(cancelled)}`],
    ['duplicated names, cancelled first', `bff.sid=${value(cancelled)}; bff.sid=${value(awaiting)}`],
    ['a forged one first', `bff.sid=s%3Aforged.sig; bff.sid=${value(awaiting)}`],
    ['odd whitespace', `  bff.sid =  ${value(awaiting)}  ;other=1`],
    ['tabs and no space', `other=1;\tbff.sid=${value(cancelled)}\t`],
    ['quoted', `bff.sid="${value(awaiting)}"`],
    ['non-ASCII bytes around the value', `bff.sid=\u00e9${value(awaiting)}\u00e9`],
    ['non-ASCII before the name', `\u00ffbff.sid=${value(awaiting)}`],
    ['percent-decoded signature', `bff.sid=${decodeURIComponent(value(cancelled))}`],
    ['an empty one first', `bff.sid=; bff.sid=${value(awaiting)}`],
    ['a forged one first, with a space before "="', `bff.sid =s%3Aforged.sig; bff.sid=${value(awaiting)}`],
    [
      'a tab before "=" on the cancelled one first',
      `bff.sid\t=${value(cancelled)}; bff.sid=${value(awaiting)}`,
    ],
  ];

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])('case %i', async (i) => {
    const [name, cookie] = headers()[i] as [string, string];
    // GET /api/verification is the fast path; the trailing slash goes through Express and express-session.
    const fast = await send(shared.server.url, '/api/verification', {
      headers: { cookie: Buffer.from(cookie, 'latin1').toString('latin1') },
    });
    const slow = await send(shared.server.url, '/api/verification/', { headers: { cookie } });
    expect({ name, fast: fast.status, slow: slow.status }).toEqual({ name, fast: 200, slow: 200 });
    expect({ name, status: (fast.json as { status: string }).status }).toEqual({
      name,
      status: (slow.json as { status: string }).status,
    });
  });

  it('the forged first cookie with a space before "=" hides the session from both', async () => {
    const cookie = `bff.sid =s%3Aforged.sig; bff.sid=${value(awaiting)}`;
    expect(readSignedSessionId(cookie, 'bff.sid', [secret])).toBeUndefined();
    const fast = await send(shared.server.url, '/api/verification', { headers: { cookie } });
    expect((fast.json as { status: string }).status).toBe('none');
  });
});

describe('per-session start limit (B10)', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({
      sandbox: shared.sandbox,
      env: { ...HIGH_RATE_LIMITS, RATE_LIMIT_STARTS_PER_SESSION_PER_HOUR: '2' },
    });
  });
  afterAll(() => limited.close());

  it("counts the session's first start: the third start of a new browser is refused", async () => {
    const first = await send(limited.url, '/verification/start');
    expect(first.status).toBe(302);
    const cookie = sessionCookieOf(first);
    expect((await send(limited.url, '/verification/start', { cookie })).status).toBe(302);
    const third = await send(limited.url, '/verification/start', { cookie });
    expect(third.status).toBe(429);
    expect(third.json).toMatchObject({ error: { code: 'rate_limited' } });
  });

  it('counts POST starts the same way', async () => {
    const post = (cookie?: string) =>
      send(limited.url, '/api/verification', { method: 'POST', cookie, headers: JSON_TYPE, body: '{}' });
    const first = await post();
    expect(first.status).toBe(201);
    const cookie = sessionCookieOf(first);
    expect((await post(cookie)).status).toBe(201);
    expect((await post(cookie)).status).toBe(429);
  });
});

describe('callback budgets: with a session apart from without (B11)', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({
      sandbox: shared.sandbox,
      env: { ...HIGH_RATE_LIMITS, RATE_LIMIT_CALLBACKS_PER_IP_PER_MINUTE: '3' },
    });
  });
  afterAll(() => limited.close());

  it('cookie-less callbacks from the same address use up their own budget, not that of a person with a flow', async () => {
    const person = new Applicant(limited.url);
    const flow = await person.startAndApprove();
    const flood = [];
    for (let i = 0; i < 10; i++) flood.push(await send(limited.url, `/callback${flow.search}`));
    expect(
      flood.slice(3).every((r) => r.headers.location === '/?verification=failed&reason=rate_limited'),
    ).toBe(true);
    expect(await person.callback(flow)).toBe('/?verification=completed');
  });
});

describe('rate-limit keys by client address (B8)', () => {
  let proxied: TestServer;
  beforeAll(async () => {
    proxied = await startTestServer({
      sandbox: shared.sandbox,
      env: { ...HIGH_RATE_LIMITS, TRUST_PROXY: 'true', RATE_LIMIT_CALLBACKS_PER_IP_PER_MINUTE: '2' },
    });
  });
  afterAll(() => proxied.close());

  const callback = (xff: string) =>
    send(proxied.url, '/callback?state=forged-state-value&success=false', {
      headers: { 'x-forwarded-for': xff },
    });
  const callbackKeys = async () =>
    (await shared.redis.keysUnder(`${proxied.prefix}rl:callback-ip-nosession:`)).map((k) =>
      k.slice(`${proxied.prefix}rl:callback-ip-nosession:`.length),
    );

  it('IPv6 clients share their /64; ::ffff:a.b.c.d is the IPv4 address; any X-Forwarded-For keeps keys short', async () => {
    await callback('2001:db8:1:2::1');
    await callback('2001:db8:1:2:ffff:ffff:ffff:ffff');
    const third = await callback('2001:db8:1:2:aaaa::7');
    expect(third.headers.location).toBe('/?verification=failed&reason=rate_limited');
    expect((await callback('2001:db8:1:3::1')).headers.location).not.toContain('rate_limited');

    await callback('203.0.113.9');
    await callback('::ffff:203.0.113.9');
    expect((await callback('::ffff:cb00:7109')).headers.location).toBe(
      '/?verification=failed&reason=rate_limited',
    );

    await callback('x'.repeat(4000));
    await callback(`${'1.2.3.4, '.repeat(500)}${'z'.repeat(2000)}`);

    const keys = await callbackKeys();
    expect(keys).toEqual(expect.arrayContaining(['2001:db8:1:2::/64', '2001:db8:1:3::/64', '203.0.113.9']));
    expect(keys.every((k) => k.length <= 45)).toBe(true);
    expect(keys).toHaveLength(5);
  });
});

describe('request bodies (B14)', () => {
  let slow: TestServer;
  beforeAll(async () => {
    slow = await startTestServer({
      sandbox: shared.sandbox,
      env: { ...HIGH_RATE_LIMITS, HTTP_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(() => slow.close());

  it('a trickling body is cut off with 408 request_timeout and a log line, in about the deadline', async () => {
    const url = new URL(slow.url);
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname);
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
      socket.write(
        'POST /api/verification HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      );
      const drip = setInterval(() => socket.writable && socket.write(' '), 200);
      socket.on('close', () => clearInterval(drip));
      setTimeout(() => socket.destroy(), 8000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"request_timeout"');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(slow.logs.text()).toContain('answered 408');
  });
});
