import request from 'supertest';
import { buildIncomeReport } from '../../src/sandbox/income-report';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { startTestSandbox, startTestServer, type TestServer } from '../support/harness';
import { freePorts, startRedisCluster, type RedisCluster } from '../support/redis-cluster';
import { Applicant } from '../support/applicant';

/**
 * A server started before its Redis Cluster exists (a deployment where the cluster is created after
 * the BFF starts) must answer 503 meanwhile and serve normally once the cluster is up, without a restart.
 */

let sandbox: Sandbox;
let server: TestServer | undefined;
let cluster: RedisCluster | undefined;

beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(async () => {
  await server?.close();
  await cluster?.close();
  await sandbox?.close();
});

it('answers 503 while the cluster is missing, then serves the whole flow once it is created', async () => {
  const ports = await freePorts(3);
  // Waits the runtime's connect grace period (5 s) since nothing answers yet.
  server = await startTestServer({
    sandbox,
    redis: false,
    env: { REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(',') },
  });
  await request(server.url).get('/readyz').expect(503);
  expect((await request(server.url).get('/verification/start').expect(503)).body.error.code).toBe(
    'dependency_unavailable',
  );

  cluster = await startRedisCluster({ ports });
  const deadline = Date.now() + 10_000;
  let ready = 0;
  while (ready !== 200 && Date.now() < deadline) {
    ready = (await request(server.url).get('/readyz')).status;
    if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  expect(ready).toBe(200);
  expect(server.runtime.redis?.isReady()).toBe(true);

  const applicant = new Applicant(server.url);
  const callback = await applicant.startAndApprove();
  expect(await applicant.callback(callback)).toBe('/?verification=completed');
  const done = await applicant.poll(['ready']);
  expect(done.body.report).toEqual(buildIncomeReport(callback.flowId, 12));
  expect(server.logs.text()).toContain('redis connection restored');
}, 40_000);
