import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { webhookIdFor } from '../../src/integrator/webhook-events';
import { startTestSandbox } from '../support/harness';
import {
  inspectCluster,
  startRedisCluster,
  type ClusterInspector,
  type RedisCluster,
} from '../support/redis-cluster';
import {
  createVerification,
  startWebhookSetup,
  waitUntil,
  type WebhookSetup,
} from '../integrator/webhook-support';
import { Applicant } from '../support/applicant';

// The webhook event log's scripts span several keys: they must share one hash slot ({events}), and
// the delivery job runs on BullMQ over the cluster like the report job.
jest.setTimeout(60_000);

let cluster: RedisCluster;
let redis: ClusterInspector;
let sandbox: Sandbox;
let setup: WebhookSetup | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster();
  redis = await inspectCluster(cluster.nodes);
  sandbox = await startTestSandbox();
}, 60_000);
afterAll(async () => {
  if (setup) {
    await setup.close();
    await redis.dropPrefix(setup.server.prefix);
  }
  await sandbox?.close();
  await redis?.close();
  await cluster?.close();
});

describe('webhooks on a 3-master Redis Cluster', () => {
  it('a ticketed flow ends in one verified delivery (after a retry), the catch-up log reads it, nothing logs CROSSSLOT', async () => {
    setup = await startWebhookSetup(sandbox, {
      // An empty REDIS_URL counts as unset: REDIS_CLUSTER_NODES selects the cluster client.
      env: { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodes.join(','), WEBHOOK_RETRY_SCHEDULE_S: '0.5' },
      receiver: { respond: (_d, attempt) => ({ status: attempt === 1 ? 503 : 204 }) },
    });
    const { server, receiver } = setup;
    const made = await createVerification(server, 'cluster-1');
    await new Applicant(server.url).completeFlow(made.start_url);
    const other = await createVerification(server, 'cluster-2');
    await new Applicant(server.url).cancelFlow(other.start_url);
    const ids = [webhookIdFor(made.id, 'ready'), webhookIdFor(other.id, 'cancelled')];
    await waitUntil('both delivered', () =>
      ids.every((id) => receiver.deliveries.some((d) => d.webhookId === id && d.status === 204)),
    );
    expect(
      receiver.deliveries
        .filter((d) => d.status === 204)
        .map((d) => d.webhookId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(receiver.deliveries.every((d) => d.verifiedWith.length === 1)).toBe(true);
    const events = await server.lender().get('/events').expect(200);
    expect(events.body.items.map((e: { id: string }) => e.id).sort()).toEqual([...ids].sort());
    expect(server.logs.text()).not.toMatch(/CROSSSLOT/);
  });
});
