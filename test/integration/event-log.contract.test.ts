import { randomBytes } from 'node:crypto';
import pino from 'pino';
import {
  createMemoryEventLog,
  createRedisEventLog,
  type EventLog,
  type WebhookEvent,
} from '../../src/integrator/event-log';
import { connectRedis, type RedisConnection } from '../../src/storage/redis-connection';
import { createStorageKeys } from '../../src/storage/storage-keys';
import { inspectRedis, redisUrl } from '../support/harness';

let connection: RedisConnection;
const prefixes: string[] = [];

beforeAll(async () => {
  connection = await connectRedis(
    { url: redisUrl(), clusterNodes: undefined, commandTimeoutMs: 2000 },
    pino({ level: 'silent' }),
  );
});
afterAll(async () => {
  const redis = await inspectRedis();
  for (const prefix of prefixes) await redis.dropPrefix(prefix);
  await redis.close();
  await connection.close();
});

const event = (n: number): WebhookEvent => ({
  id: `msg_${String(n).padStart(26, '0')}`,
  type: 'verification.ready',
  timestamp: new Date(1_796_119_200_000 + n).toISOString(),
  data: { id: `ver_${n}`, reference: `ref-${n}`, status: 'ready', error: null },
});
const bodyOf = (e: WebhookEvent) => JSON.stringify({ type: e.type, timestamp: e.timestamp, data: e.data });

/** One suite, two implementations: the in-process log must behave like the Redis one. */
describe.each([
  ['memory', (clock: () => number, retentionMs: number) => createMemoryEventLog({ clock, retentionMs })],
  [
    'redis',
    (clock: () => number, retentionMs: number) => {
      const prefix = `test:events:${randomBytes(4).toString('hex')}:`;
      prefixes.push(prefix);
      return createRedisEventLog(connection.commands, createStorageKeys(prefix), { clock, retentionMs });
    },
  ],
])('EventLog contract: %s', (_name, make: (clock: () => number, retentionMs: number) => EventLog) => {
  let now: number;
  let log: EventLog;
  beforeEach(() => {
    now = 1_796_119_200_000;
    log = make(() => now, 3600_000);
  });

  it('appends once per event id, keeping the exact body and the first delivery state', async () => {
    const e = event(1);
    expect((await log.append(e, bodyOf(e), now - 5)).created).toBe(true);
    await log.beginAttempt(e.id);
    const again = await log.append(e, '{"other":"body"}', now);
    expect(again.created).toBe(false);
    expect(again.delivery).toMatchObject({ status: 'pending', attempts: 1 });
    const read = await log.read(e.id);
    expect(read).toMatchObject({ event: e, body: bodyOf(e), changedAt: now - 5 });
    expect(await log.read('msg_unknown')).toBeUndefined();
  });

  it('pages oldest first with a cursor that always continues where the last page ended', async () => {
    expect(await log.page(undefined, 10)).toEqual({ items: [], next: '0' });
    for (let n = 1; n <= 5; n++) {
      now += n === 3 ? 0 : 1; // two in the same millisecond keep their order
      await log.append(event(n), bodyOf(event(n)), now);
    }
    const first = await log.page(undefined, 2);
    expect(first.items.map((e) => e.id)).toEqual([event(1).id, event(2).id]);
    const second = await log.page(first.next, 2);
    expect(second.items.map((e) => e.id)).toEqual([event(3).id, event(4).id]);
    const third = await log.page(second.next, 2);
    expect(third.items).toEqual([event(5)]);
    const idle = await log.page(third.next, 2);
    expect(idle).toEqual({ items: [], next: third.next });
    now += 1;
    await log.append(event(6), bodyOf(event(6)), now);
    expect((await log.page(third.next, 2)).items).toEqual([event(6)]);
  });

  it('tracks attempts, delivery, dead letters (newest first) and requeues', async () => {
    for (const n of [1, 2, 3]) await log.append(event(n), bodyOf(event(n)), now);
    expect(await log.beginAttempt(event(1).id)).toBe(1);
    expect(await log.beginAttempt(event(1).id)).toBe(2);
    await log.update(event(1).id, { op: 'attempt_failed', error: 'http_503' });
    expect((await log.read(event(1).id))?.delivery).toMatchObject({
      status: 'pending',
      attempts: 2,
      lastError: 'http_503',
    });
    await log.update(event(1).id, { op: 'dead', error: 'http_500' });
    now += 10;
    await log.update(event(2).id, { op: 'dead', error: 'http_410' });
    await log.update(event(3).id, { op: 'delivered' });
    expect((await log.deadLetters(10)).map((d) => [d.event.id, d.delivery.lastError])).toEqual([
      [event(2).id, 'http_410'],
      [event(1).id, 'http_500'],
    ]);
    expect(await log.requeue(event(1).id)).toBe('requeued');
    expect(await log.requeue(event(1).id)).toBe('pending');
    expect((await log.read(event(1).id))?.delivery).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await log.deadLetters(10)).map((d) => d.event.id)).toEqual([event(2).id]);
    expect(await log.requeue(event(3).id)).toBe('requeued');
    expect(await log.requeue('msg_unknown')).toBe('unknown');
    expect(await log.beginAttempt('msg_unknown')).toBeUndefined();
  });

  it('removes events (a deleted verification’s) with their delivery state; the cursor still only grows', async () => {
    await log.append(event(1), bodyOf(event(1)), now);
    await log.append(event(2), bodyOf(event(2)), now);
    await log.update(event(2).id, { op: 'dead', error: 'http_500' });
    const before = await log.page(undefined, 10);
    await log.remove([event(1).id, event(2).id, 'msg_never_there']);
    expect(await log.read(event(1).id)).toBeUndefined();
    expect(await log.deadLetters(10)).toEqual([]);
    expect((await log.page(undefined, 10)).items).toEqual([]);
    now += 1;
    await log.append(event(3), bodyOf(event(3)), now);
    const after = await log.page(before.next, 10);
    expect(after.items.map((e) => e.id)).toEqual([event(3).id]);
    expect(Number(after.next)).toBeGreaterThan(Number(before.next));
  });

  it('drops events older than the retention period', async () => {
    await log.append(event(1), bodyOf(event(1)), now);
    now += 3600_000 + 1;
    await log.append(event(2), bodyOf(event(2)), now);
    expect(await log.read(event(1).id)).toBeUndefined();
    expect((await log.page(undefined, 10)).items.map((e) => e.id)).toEqual([event(2).id]);
  });
});
