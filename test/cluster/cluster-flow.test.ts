import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { buildIncomeReport } from '../../src/sandbox/income-report';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { startTestSandbox, startTestServer, type TestServer, holdsData } from '../support/harness';
import {
  inspectCluster,
  startRedisCluster,
  type ClusterInspector,
  type RedisCluster,
} from '../support/redis-cluster';
import { concurrentPollsAcrossInstances } from '../support/scenarios';
import { KEY_A } from '../integrator/integrator-support';
import { Applicant } from '../support/applicant';

/**
 * The whole flow on a real 3-master Redis Cluster: every multi-key script must stay within one hash
 * slot ({v:<id>}), sessions (connect-redis) must work through the cluster client, and instances
 * sharing the cluster must share sessions and verifications.
 */

let cluster: RedisCluster;
let redis: ClusterInspector;
let sandbox: Sandbox;
const servers: TestServer[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
  redis = await inspectCluster(cluster.nodes);
  sandbox = await startTestSandbox();
}, 60_000);
afterEach(async () => {
  // A store failure becomes a 503 (dependency_unavailable) in the test; the log says why (e.g. CROSSSLOT).
  const errors = servers.flatMap((s) => errorLines(s));
  for (const server of servers.splice(0)) {
    await server.close();
    await redis.dropPrefix(server.prefix);
  }
  if (errors.length > 0) throw new Error(`the server logged errors:\n${errors.slice(0, 5).join('\n')}`);
});
afterAll(async () => {
  await sandbox?.close();
  await redis?.close();
  await cluster?.close();
});

async function startOnCluster(
  options: { prefix?: string; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const server = await startTestServer({
    sandbox,
    // redis: false keeps the harness from setting REDIS_URL; REDIS_CLUSTER_NODES selects the cluster client.
    redis: false,
    env: { REDIS_CLUSTER_NODES: cluster.nodes.join(','), ...options.env },
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  servers.push(server);
  return server;
}

/** Log lines at level error or above. */
const errorLines = (server: TestServer) =>
  server.logs
    .text()
    .split('\n')
    .filter((line) => line.trim() !== '' && (JSON.parse(line) as { level: number }).level >= 50);

/** Everything but rate-limit counters, which hold no user data. */
const dataKeys = async (prefix: string) =>
  (await redis.keysUnder(prefix)).filter((k) => !k.includes(':rl:') && holdsData(k));
const nonSessionKeys = async (prefix: string) =>
  (await dataKeys(prefix)).filter((k) => !k.includes(':sess:'));
const verificationKeys = async (prefix: string) => (await dataKeys(prefix)).filter((k) => k.includes('{v:'));

describe('on a 3-master Redis Cluster', () => {
  it('the server really talks to the cluster, and /readyz is 200', async () => {
    const server = await startOnCluster();
    expect(server.runtime.config.redis).toMatchObject({ url: undefined, clusterNodes: cluster.nodes });
    expect('masters' in (server.runtime.redis?.client ?? {})).toBe(true);
    await request(server.url).get('/readyz').expect(200, { status: 'ready' });
    await request(server.url).get('/healthz').expect(200, { status: 'ok' });
  });

  it('start → widget approve → callback → ready with the right report; the verification keys share one hash slot; DELETE removes them all', async () => {
    const server = await startOnCluster();
    const applicant = new Applicant(server.url);
    const callback = await applicant.startAndApprove();
    expect(await applicant.callback(callback)).toBe('/?verification=completed');

    const ready = await applicant.poll(['ready']);
    expect(ready.body.error).toBeNull();
    expect(ready.body.report).toEqual(buildIncomeReport(callback.flowId, 12));

    // meta and report of the one verification, all tagged {v:<id>}, all in one slot on one master.
    // The tokens (same tag) went in the same script that stored the report: one-time access.
    const keys = await verificationKeys(server.prefix);
    for (const suffix of [':meta', ':report']) expect(keys.some((k) => k.endsWith(suffix))).toBe(true);
    expect(keys.some((k) => k.endsWith(':tokens'))).toBe(false);
    const tags = new Set(keys.map((k) => /\{v:[^}]+\}/.exec(k)?.[0]));
    expect(tags.size).toBe(1);
    const slots = new Set(await Promise.all(keys.map((k) => redis.keySlot(k))));
    expect(slots.size).toBe(1);
    const holders = [...(await redis.keysByNode(server.prefix)).entries()].filter(([, ks]) =>
      ks.some((k) => k.includes('{v:')),
    );
    expect(holders).toHaveLength(1);
    // The session lives in the cluster too (connect-redis through the cluster client).
    expect((await dataKeys(server.prefix)).filter((k) => k.includes(':sess:'))).toHaveLength(1);

    await applicant.delete('/api/verification').set('Content-Type', 'application/json').expect(204);
    expect(await nonSessionKeys(server.prefix)).toEqual([]);
    expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('none');
  });

  it('DELETE of a pending flow removes its flow record (another slot) and its meta', async () => {
    const server = await startOnCluster();
    const applicant = new Applicant(server.url);
    await applicant.start();
    const pending = await nonSessionKeys(server.prefix);
    expect(pending.some((k) => k.includes(':flow:'))).toBe(true);
    expect(pending.some((k) => k.endsWith(':meta'))).toBe(true);
    await applicant.delete('/api/verification').set('Content-Type', 'application/json').expect(204);
    expect(await nonSessionKeys(server.prefix)).toEqual([]);
  });

  it('several verifications at once, spread over the masters, all complete', async () => {
    const server = await startOnCluster();
    const applicants = Array.from({ length: 6 }, () => new Applicant(server.url));
    const flowIds = await Promise.all(
      applicants.map(async (applicant) => {
        const callback = await applicant.startAndApprove();
        expect(await applicant.callback(callback)).toBe('/?verification=completed');
        return callback.flowId;
      }),
    );
    const reports = await Promise.all(applicants.map((applicant) => applicant.poll(['ready'])));
    reports.forEach((res, i) => expect(res.body.report).toEqual(buildIncomeReport(flowIds[i] as string, 12)));

    // Each verification keeps to its own slot.
    const byTag = new Map<string, string[]>();
    for (const key of await verificationKeys(server.prefix)) {
      const tag = /\{v:[^}]+\}/.exec(key)?.[0] as string;
      byTag.set(tag, [...(byTag.get(tag) ?? []), key]);
    }
    expect(byTag.size).toBe(6);
    for (const keys of byTag.values())
      expect(new Set(await Promise.all(keys.map((k) => redis.keySlot(k)))).size).toBe(1);
  });

  it('two instances share the cluster and one session cookie: start on one, callback on the other, report from both', async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const a = await startOnCluster({ prefix });
    // Both instances sit behind one public URL, as behind a load balancer: same redirect URI.
    const b = await startOnCluster({ prefix, env: { PUBLIC_BASE_URL: a.url } });
    expect(b.prefix).toBe(a.prefix);

    const applicant = new Applicant(a.url);
    const callback = await applicant.startAndApprove();
    const before = applicant.session;

    expect(await applicant.at(b.url).callback(callback)).toBe('/?verification=completed');
    expect(applicant.session).not.toBe(before); // regenerated on completion

    const { body } = await applicant.poll(['ready']);
    expect(body.report).toEqual(buildIncomeReport(callback.flowId, 12));
    const fromB = await applicant.at(b.url).get('/api/verification').expect(200);
    expect(fromB.body).toEqual(body);

    // The old session id was destroyed in the cluster: it no longer shows the verification.
    expect((await new Applicant(b.url, before).get('/api/verification').expect(200)).body.status).toBe(
      'none',
    );
    await request(b.url).get('/readyz').expect(200, { status: 'ready' });
  });

  it('a poll held on one instance (Prefer: wait) is answered when the callback lands on the other (sharded pub/sub)', async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const a = await startOnCluster({ prefix, env: { POLL_MAX_WAIT_S: '10' } });
    const b = await startOnCluster({ prefix, env: { PUBLIC_BASE_URL: a.url } });
    const applicant = new Applicant(a.url);
    const widget = await applicant.start();
    const pending = await applicant.get('/api/verification').expect(200);
    expect(pending.body.status).toBe('awaiting_user');
    const t0 = Date.now();
    // fetch, so that the poll is on its way while the callback is sent.
    const held = fetch(`${a.url}/api/verification`, {
      headers: {
        cookie: applicant.session,
        prefer: 'wait=10',
        'if-none-match': pending.headers.etag as string,
      },
    });
    const deadline = Date.now() + 2000;
    while (a.runtime.waiting.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(a.runtime.waiting.size).toBe(1);

    await applicant.at(b.url).callback(await applicant.approveInWidget(widget));
    const res = await held;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=10');
    expect(['processing', 'ready']).toContain(((await res.json()) as { status: string }).status);
  });
});

describe('the lender side on the cluster', () => {
  it('ticketed flow: API create → browser approves → the report job (BullMQ on ioredis Cluster) makes it readable by the lender', async () => {
    const server = await startOnCluster({ env: { INTEGRATOR_API_KEYS: KEY_A } });
    const auth = { authorization: `Bearer ${KEY_A}` };
    const made = await request(server.url)
      .post('/integrator/v1/verifications')
      .set({ ...auth, 'content-type': 'application/json' })
      .send({ reference: 'cluster-1' })
      .expect(201);
    const { flowId } = await new Applicant(server.url).completeFlow(made.body.start_url);
    const deadline = Date.now() + 10_000;
    let status = '';
    while (Date.now() < deadline) {
      status = (await request(server.url).get(`/integrator/v1/verifications/${made.body.id}`).set(auth)).body
        .status;
      if (status === 'ready') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('ready');
    const report = await request(server.url)
      .get(`/integrator/v1/verifications/${made.body.id}/report`)
      .set(auth)
      .expect(200);
    expect(report.body).toEqual(buildIncomeReport(flowId, 12));
    // The queue's keys carry one hash tag: one slot, so BullMQ's scripts work on the cluster.
    const queueKeys = await redis.keysUnder(`{${server.prefix}jobs}`);
    expect(queueKeys.length).toBeGreaterThan(0);
    expect(new Set(await Promise.all(queueKeys.map((k) => redis.keySlot(k)))).size).toBe(1);
  });
});

describe('concurrent refresh on the cluster', () => {
  it('50 concurrent polls over two instances while access tokens expire every second: ready, zero rejected refreshes', async () => {
    sandbox.configure({ accessTokenTtlS: 1, reportDelayMs: 4000 });
    try {
      const env = { REFRESH_SKEW_S: '0', REPORT_POLL_INTERVAL_MS: '100', REPORT_READY_TIMEOUT_S: '60' };
      const a = await startOnCluster({ env });
      const b = await startOnCluster({ env: { ...env, PUBLIC_BASE_URL: a.url }, prefix: a.prefix });
      const result = await concurrentPollsAcrossInstances([a.url, b.url], sandbox, 50, 20_000);
      process.stdout.write(`cluster concurrent refresh: ${JSON.stringify(result)}\n`);
      expect(result.finalStatus).toBe('ready');
      expect(result.errors).toBe(0);
      expect(result.refreshesRejected).toBe(0);
      expect(result.refreshes).toBeGreaterThanOrEqual(2);
      expect(result.refreshes).toBeLessThanOrEqual(Math.ceil(result.elapsedMs / 1000) + 1);
    } finally {
      sandbox.configure({ accessTokenTtlS: 3600, reportDelayMs: 0 });
    }
  }, 40_000);
});
