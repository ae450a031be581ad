import type { Child } from '../../bench/processes';
import { startDemoReceiver, type DemoReceiver } from '../../src/integrator/demo-webhook-receiver';
import { webhookIdFor } from '../../src/integrator/webhook-events';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { sleep, startTestSandbox } from '../support/harness';
import { integratorCall, startServerProcess } from '../support/server-process';
import { createPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { SECRET, waitUntil } from '../integrator/webhook-support';
import { Applicant } from '../support/applicant';

// Real processes killed with SIGKILL and a real Redis (AOF, fsync always) stopped and started again:
// a delivery lives in Redis, not in a process.
jest.setTimeout(120_000);

let sandbox: Sandbox;
let redis: PrivateRedis;
let receiver: DemoReceiver;
let answer: (attempt: number) => number = () => 204;
const children: Child[] = [];

beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await createPrivateRedis();
  await redis.start();
  receiver = await startDemoReceiver({
    secrets: [SECRET],
    respond: (_d, attempt) => ({ status: answer(attempt) }),
  });
});
afterAll(async () => {
  for (const child of children) await child.stop();
  await receiver.close();
  redis.stop();
  redis.cleanup();
  await sandbox.close();
});
beforeEach(() => {
  receiver.deliveries.length = 0;
});

async function instance(schedule = '3,3'): Promise<Child> {
  const child = await startServerProcess({
    name: `server-${children.length}`,
    redisUrl: redis.url,
    sandbox,
    env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_SCHEDULE_S: schedule },
  });
  children.push(child);
  return child;
}

const api = integratorCall;

/** The lender creates a verification on one instance; the applicant cancels in the widget. Returns its webhook id. */
async function endedVerification(base: string, reference: string): Promise<string> {
  const made = (await (
    await api(base, '/verifications', { method: 'POST', body: JSON.stringify({ reference }) })
  ).json()) as { id: string; start_url: string };
  await new Applicant(base).cancelFlow(made.start_url);
  return webhookIdFor(made.id, 'cancelled');
}

describe('webhook deliveries outlive every instance and Redis', () => {
  it('kill -9 of every instance while a delivery waits for its retry: a new instance delivers it', async () => {
    answer = (attempt) => (attempt === 1 ? 503 : 204);
    const first = await instance();
    const id = await endedVerification(first.url, 'wh-kill');
    await waitUntil('the first attempt', () => receiver.deliveries.length === 1);
    await sleep(300);
    first.signal('SIGKILL');
    // The retry falls due while no instance runs.
    await sleep(4000);
    expect(receiver.deliveries).toHaveLength(1);

    await instance();
    await waitUntil('the retry', () => receiver.deliveries.length === 2, 20_000);
    expect(receiver.deliveries.map((d) => [d.webhookId, d.status, d.verifiedWith])).toEqual([
      [id, 503, [0]],
      [id, 204, [0]],
    ]);
  });

  it('Redis stopped and started again (AOF) with every instance gone meanwhile: the queued delivery is still delivered', async () => {
    answer = (attempt) => (attempt === 1 ? 503 : 204);
    const first = await instance('4,4');
    const id = await endedVerification(first.url, 'wh-redis');
    await waitUntil('the first attempt', () => receiver.deliveries.length === 1);
    await sleep(300);
    first.signal('SIGKILL');
    redis.stop();
    await sleep(500);
    await redis.start();
    await instance('4,4');
    await waitUntil('the retry', () => receiver.deliveries.length === 2, 20_000);
    expect(receiver.deliveries.map((d) => [d.webhookId, d.status])).toEqual([
      [id, 503],
      [id, 204],
    ]);
    // The catch-up log survived too.
    const second = children[children.length - 1] as Child;
    const events = (await (await api(second.url, '/events?limit=500')).json()) as {
      items: Array<{ id: string }>;
    };
    expect(events.items.map((e) => e.id)).toContain(id);
  });

  it('two instances: every event delivered, and no webhook-id delivered successfully twice', async () => {
    answer = () => 204;
    for (const child of children) await child.stop();
    const a = await instance();
    const b = await instance();
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) ids.push(await endedVerification(i % 2 ? a.url : b.url, `wh-two-${i}`));
    await waitUntil(
      'every delivery',
      () => new Set(receiver.deliveries.map((d) => d.webhookId)).size === ids.length,
      30_000,
    );
    await sleep(1500);
    const ok = receiver.deliveries.filter((d) => d.status === 204);
    expect(ok.map((d) => d.webhookId).sort()).toEqual([...ids].sort());
    expect(receiver.deliveries.every((d) => d.verifiedWith.length === 1)).toBe(true);
  });
});
