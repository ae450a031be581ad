import type { Sandbox } from '../../src/sandbox/sandbox-server';
import {
  inspectRedis,
  startTestSandbox,
  startTestServer,
  type TestServer,
  holdsData,
} from '../support/harness';
import { concurrentPollsAcrossInstances } from '../support/scenarios';
import { Applicant } from '../support/applicant';

let sandbox: Sandbox;
let redis: Awaited<ReturnType<typeof inspectRedis>>;
const servers: TestServer[] = [];

beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await inspectRedis();
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    await s.close();
    await redis.dropPrefix(s.prefix);
  }
  sandbox.configure({ accessTokenTtlS: 3600, reportDelayMs: 0 });
  sandbox.resetStats();
});
afterAll(async () => {
  await sandbox.close();
  await redis.close();
});

async function server(env: Record<string, string> = {}, prefix?: string): Promise<TestServer> {
  const s = await startTestServer({ sandbox, env, ...(prefix ? { prefix } : {}) });
  servers.push(s);
  return s;
}

const dataKeys = async (prefix: string) =>
  (await redis.keysUnder(prefix)).filter((k) => !k.includes(':rl:') && !k.includes(':sess:') && holdsData(k));

async function completedApplicant(s: TestServer): Promise<Applicant> {
  const applicant = new Applicant(s.url);
  await applicant.completeFlow();
  return applicant;
}

describe('two instances sharing one Redis', () => {
  it('the flow starts on one, the callback lands on the other, and either serves the report', async () => {
    const a = await server();
    // Behind a load balancer every instance has the same public URL (and so the same redirect_uri).
    const b = await server({ PUBLIC_BASE_URL: a.url }, a.prefix);
    const applicant = new Applicant(a.url);
    const callback = await applicant.startAndApprove();
    expect(await applicant.at(b.url).callback(callback)).toBe('/?verification=completed');
    const fromA = await applicant.poll(['ready']);
    const fromB = await applicant.at(b.url).get('/api/verification').expect(200);
    expect(fromB.body).toEqual(fromA.body);
  });

  it('50 concurrent polls over two instances while access tokens expire every second: ready, and zero rejected refreshes', async () => {
    sandbox.configure({ accessTokenTtlS: 1, reportDelayMs: 4000 });
    const env = {
      REFRESH_SKEW_S: '0',
      REPORT_POLL_INTERVAL_MS: '100',
      REPORT_READY_TIMEOUT_S: '60',
      RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: '100000',
    };
    const a = await server(env);
    const b = await server({ ...env, PUBLIC_BASE_URL: a.url }, a.prefix);
    const result = await concurrentPollsAcrossInstances([a.url, b.url], sandbox, 50, 20_000);
    // Printed for the closing note: polls sent vs refreshes the provider saw.
    process.stdout.write(`concurrent refresh: ${JSON.stringify(result)}\n`);
    // Lock waits as both instances saw them (for the closing note): count and mean.
    for (const s of [a, b]) {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      const value = (name: string) =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(`${name} `))
            ?.split(' ')[1] ?? 0,
        );
      const count = value('bff_refresh_lock_wait_seconds_count');
      const sum = value('bff_refresh_lock_wait_seconds_sum');
      process.stdout.write(
        `refresh lock waits on ${s.url}: ${count}, mean ${count ? ((sum / count) * 1000).toFixed(1) : 0} ms\n`,
      );
    }
    expect(result.finalStatus).toBe('ready');
    expect(result.errors).toBe(0);
    expect(result.refreshesRejected).toBe(0);
    expect(result.refreshes).toBeGreaterThanOrEqual(2);
    // At most one refresh per expiry window (1 s), plus one for the window in progress.
    expect(result.refreshes).toBeLessThanOrEqual(Math.ceil(result.elapsedMs / 1000) + 1);
  }, 40_000);
});

describe('the refresh lock under contention', () => {
  it('50 concurrent token requests on two instances after expiry: one refresh, one token for all', async () => {
    sandbox.configure({ accessTokenTtlS: 1, reportDelayMs: 60_000 });
    // The report job asks once right after the callback, then not for 30 s: the refreshes counted are ours.
    const a = await server({ REFRESH_SKEW_S: '0', REPORT_POLL_INTERVAL_MS: '30000' });
    const b = await server(
      { REFRESH_SKEW_S: '0', REPORT_POLL_INTERVAL_MS: '30000', PUBLIC_BASE_URL: a.url },
      a.prefix,
    );
    await completedApplicant(a);
    const tokensKey = (await dataKeys(a.prefix)).find((k) => k.endsWith(':tokens')) as string;
    const id = /\{v:([^}]+)\}/.exec(tokensKey)?.[1] as string;
    await new Promise((r) => setTimeout(r, 1100));
    const before = sandbox.stats();
    const started = Date.now();
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? b : a).runtime.deps.tokens.accessToken(id)),
    );
    process.stdout.write(`contended refresh: 50 requests on 2 instances in ${Date.now() - started} ms\n`);
    expect(new Set(tokens).size).toBe(1);
    expect(sandbox.stats().refreshes - before.refreshes).toBe(1);
    expect(sandbox.stats().refreshesRejected - before.refreshesRejected).toBe(0);
  });
});

describe('refresh failures are states, not crashes', () => {
  it('a refresh token the provider rejects: expired with session_expired, and no tokens remain', async () => {
    sandbox.configure({ accessTokenTtlS: 1, reportDelayMs: 60_000 });
    const s = await server({ REFRESH_SKEW_S: '0' });
    const applicant = await completedApplicant(s);
    await new Promise((r) => setTimeout(r, 1100));
    sandbox.script('refresh', [
      { status: 400, body: { error: 'invalid_grant', error_description: 'refresh token expired' } },
    ]);
    const res = await applicant.poll(['expired']);
    expect(res.body).toMatchObject({ status: 'expired', report: null, error: { code: 'session_expired' } });
    expect((await dataKeys(s.prefix)).filter((k) => k.endsWith(':tokens'))).toEqual([]);
    // A final state stays final.
    expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('expired');
  });

  it('a revoked grant (401 on the report, refresh refused): expired, not a 500', async () => {
    sandbox.configure({ reportDelayMs: 60_000 });
    const s = await server();
    const applicant = await completedApplicant(s);
    sandbox.revokeAll();
    const res = await applicant.poll(['expired']);
    expect(res.body.error.code).toBe('session_expired');
    expect(sandbox.stats().refreshesRejected).toBe(1);
  });

  it('a refresh that times out after it may have rotated the token: reconnect_required, never retried', async () => {
    sandbox.configure({ accessTokenTtlS: 1, reportDelayMs: 60_000 });
    const s = await server({ REFRESH_SKEW_S: '0', FINX_REQUEST_TIMEOUT_MS: '300' });
    const applicant = await completedApplicant(s);
    // Scripted before the token expires: the report job refreshes on its own schedule, so the first
    // refresh (whenever it comes) must be the slow one.
    sandbox.script('refresh', [{ status: 0, delayMs: 1000 }]);
    const res = await applicant.poll(['expired']);
    expect(res.body.error.code).toBe('reconnect_required');
    await new Promise((r) => setTimeout(r, 1200));
    await applicant.get('/api/verification').expect(200);
    // The provider processed the one slow refresh; no second attempt with the spent token came.
    expect(sandbox.stats().refreshes + sandbox.stats().refreshesRejected).toBe(1);
  });

  it('a 401 on the report triggers one refresh and one retry', async () => {
    // Not ready at the job's first request, so the scripted 401 meets its second one.
    sandbox.configure({ reportDelayMs: 300 });
    try {
      const s = await server();
      const applicant = await completedApplicant(s);
      const before = sandbox.stats().refreshes;
      sandbox.script('report', [
        { status: 401, body: { error: { code: 1003, group: 'client', message: 'unauthorized' } } },
      ]);
      const res = await applicant.poll(['ready']);
      expect(res.body.report).toBeTruthy();
      expect(sandbox.stats().refreshes - before).toBe(1);
    } finally {
      sandbox.configure({ reportDelayMs: 0 });
    }
  });
});

describe('at rest', () => {
  it('a scan of every key after a full flow finds no token or report text in clear', async () => {
    // One-time access drops the tokens when the report is stored: read them while it is pending.
    sandbox.configure({ reportDelayMs: 1500 });
    const s = await server();
    const applicant = await completedApplicant(s);
    const tokensKey = (await dataKeys(s.prefix)).find((k) => k.endsWith(':tokens')) as string;
    const tokens = JSON.parse(s.runtime.deps.cipher.open((await redis.get(tokensKey)) as string, tokensKey));
    const ready = await applicant.poll(['ready']);
    expect((await dataKeys(s.prefix)).filter((k) => k.endsWith(':tokens'))).toEqual([]);
    const reportText = JSON.stringify(ready.body.report);
    const partner = ready.body.report.income.primary.payment_partner as string;
    // Every key whatever its type: strings, the owner's index of verifications (a set), and the
    // webhook event log (hashes and sorted sets).
    const readAny = async (k: string) => {
      const type = await redis.type(k);
      if (type === 'set') return (await redis.sMembers(k)).join(',');
      if (type === 'hash') return JSON.stringify(await redis.hGetAll(k));
      if (type === 'zset') return (await redis.zRange(k, 0, -1)).join('\n');
      return redis.get(k);
    };
    const values = await Promise.all((await redis.keysUnder(s.prefix)).map(readAny));
    const dump = values.join('\n');
    expect(dump.length).toBeGreaterThan(0);
    for (const secret of [
      tokens.accessToken,
      tokens.refreshToken,
      reportText,
      partner,
      'payment_partner',
      'disposable_income',
    ]) {
      expect(dump).not.toContain(secret);
    }
  });

  it('keys rotate: an instance with a new key and the old one as previous still serves the report', async () => {
    const oldKey = Buffer.alloc(32, 7).toString('base64');
    const a = await server();
    const applicant = await completedApplicant(a);
    const ready = await applicant.poll(['ready']);
    const b = await server(
      {
        TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
        TOKEN_ENCRYPTION_KEY_ID: 'k2',
        TOKEN_ENCRYPTION_PREVIOUS_KEYS: `k1:${oldKey}`,
      },
      a.prefix,
    );
    const fromB = await applicant.at(b.url).get('/api/verification');
    expect(fromB.body.report).toEqual(ready.body.report);
  });

  it('everything of a verification carries a TTL', async () => {
    const s = await server();
    const applicant = await completedApplicant(s);
    await applicant.poll(['ready']);
    for (const key of await redis.keysUnder(s.prefix)) {
      expect([key, await redis.pTTL(key)]).toEqual([key, expect.any(Number)]);
      expect(await redis.pTTL(key)).toBeGreaterThan(0);
    }
  });
});

describe('DELETE /api/verification with revocation configured', () => {
  // One-time access holds tokens only until the report is stored (then there is nothing left to
  // revoke), so these delete while the report is still pending.
  it('revokes the refresh token at the provider, then deletes everything', async () => {
    sandbox.configure({ reportDelayMs: 60_000 });
    const s = await server({ FINX_REVOKE_PATH: '/auth/revoke' });
    const applicant = await completedApplicant(s);
    expect((await dataKeys(s.prefix)).some((k) => k.endsWith(':tokens'))).toBe(true);
    await applicant.delete('/api/verification').set('Content-Type', 'application/json').expect(204);
    expect(sandbox.stats().revocations).toBe(1);
    expect(await dataKeys(s.prefix)).toEqual([]);
  });

  it('after a one-time report is stored there is no token left, so DELETE revokes nothing', async () => {
    const s = await server({ FINX_REVOKE_PATH: '/auth/revoke' });
    const applicant = await completedApplicant(s);
    await applicant.poll(['ready']);
    await applicant.delete('/api/verification').set('Content-Type', 'application/json').expect(204);
    expect(sandbox.stats().revocations).toBe(0);
    expect(await dataKeys(s.prefix)).toEqual([]);
  });

  it('deletes everything even when the revocation fails', async () => {
    sandbox.configure({ reportDelayMs: 60_000 });
    const s = await server({ FINX_REVOKE_PATH: '/no/such/endpoint' });
    const applicant = await completedApplicant(s);
    await applicant.delete('/api/verification').set('Content-Type', 'application/json').expect(204);
    expect(await dataKeys(s.prefix)).toEqual([]);
    expect(s.logs.text()).toContain('token revocation failed; deleting anyway');
  });

  it('without it, nothing is sent to the provider', async () => {
    const s = await server();
    const applicant = await completedApplicant(s);
    await applicant.delete('/api/verification').set('Content-Type', 'application/json').expect(204);
    expect(sandbox.stats().revocations).toBe(0);
  });
});
