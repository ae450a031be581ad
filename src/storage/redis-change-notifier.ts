import type { Logger } from 'pino';
import type { RedisClientType, RedisClusterType } from 'redis';
import {
  decodeChange,
  encodeChange,
  type ChangeListener,
  type ChangeNotifier,
} from '../verification/change-notifier';

/** Sharded channels on a Cluster: spread over the shards, each instance subscribes to all of them. */
const CLUSTER_CHANNELS = 16;

/**
 * Changes over Redis pub/sub. One node: PUBLISH/SUBSCRIBE on one channel, on a dedicated
 * subscriber connection (named, so operators can tell it apart). Cluster: SPUBLISH/SSUBSCRIBE on
 * `CLUSTER_CHANNELS` hash-tagged channels, picked by verification id. Every instance receives every
 * change (a few per verification), so waiting requests need no subscribe of their own and cost no
 * round trips. The client resubscribes after a reconnect by itself; then listeners resync.
 */
export async function createRedisChangeNotifier(deps: {
  client: RedisClientType | RedisClusterType;
  cluster: boolean;
  keyPrefix: string;
  logger: Logger;
  commandTimeoutMs: number;
}): Promise<ChangeNotifier> {
  const { logger, keyPrefix } = deps;
  const listeners: ChangeListener[] = [];
  const deliver = (message: string) => {
    const { verificationId, raw } = decodeChange(message);
    for (const listener of listeners) listener.changed(verificationId, raw);
  };
  const resync = () => {
    for (const listener of listeners) listener.resync();
  };
  const published = (promise: Promise<unknown>) =>
    withTimeout(promise, deps.commandTimeoutMs).then(
      () => undefined,
      (err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'change not published'),
    );

  if (deps.cluster) {
    const cluster = deps.client as RedisClusterType;
    const channels = Array.from({ length: CLUSTER_CHANNELS }, (_, n) => `${keyPrefix}{changes:${n}}`);
    const channelOf = (id: string) => channels[bucketOf(id)] as string;
    // A server may start before its Cluster is ready (it answers 503 until then): subscribing must
    // not fail the start. What is not subscribed yet is tried again with backoff; once all are,
    // waiters re-read (a held poll missed nothing it cannot read again).
    const subscribed = new Set<string>();
    let stopped = false;
    let retryTimer: NodeJS.Timeout | undefined;
    const subscribeAll = async (attempt: number): Promise<void> => {
      try {
        for (const channel of channels) {
          if (subscribed.has(channel)) continue;
          await cluster.sSubscribe(channel, deliver);
          subscribed.add(channel);
        }
        if (attempt > 0) resync();
      } catch (err) {
        if (stopped) return;
        logger.warn(
          { err: { message: (err as Error).message }, attempt },
          'change subscription failed; retrying',
        );
        retryTimer = setTimeout(() => void subscribeAll(attempt + 1), Math.min(5000, 250 * 2 ** attempt));
        retryTimer.unref();
      }
    };
    await subscribeAll(0);
    // A node's connection (data or sharded subscriber) is re-establishing; once back, the client has
    // resubscribed and waiters re-read. The cluster client tells reconnect attempts, not their end.
    let resyncTimer: NodeJS.Timeout | undefined;
    const onReconnecting = () => {
      clearTimeout(resyncTimer);
      resyncTimer = setTimeout(resync, 500);
      resyncTimer.unref();
    };
    cluster.on('node-reconnecting', onReconnecting);
    return {
      publish: (id, raw) => published(cluster.sPublish(channelOf(id), encodeChange(id, raw))),
      subscribe: (listener) => void listeners.push(listener),
      async close() {
        stopped = true;
        clearTimeout(retryTimer);
        clearTimeout(resyncTimer);
        cluster.off('node-reconnecting', onReconnecting);
        listeners.length = 0;
        await Promise.all([...subscribed].map((c) => cluster.sUnsubscribe(c).catch(() => undefined)));
      },
    };
  }

  const client = deps.client as RedisClientType;
  const channel = `${keyPrefix}changes`;
  const subscriber = client.duplicate({ name: `${keyPrefix}changes` }) as RedisClientType;
  subscriber.on('error', (err: Error) =>
    logger.warn({ err: { message: err.message } }, 'change subscriber connection error'),
  );
  let connectedOnce = false;
  subscriber.on('ready', () => {
    if (connectedOnce) resync();
    connectedOnce = true;
  });
  await subscriber.connect();
  await subscriber.subscribe(channel, deliver);
  return {
    publish: (id, raw) => published(client.publish(channel, encodeChange(id, raw))),
    subscribe: (listener) => void listeners.push(listener),
    async close() {
      listeners.length = 0;
      // Nothing waits on a subscriber's replies; it may also be mid-reconnect, where close() would wait.
      subscriber.destroy();
    },
  };
}

function bucketOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return Math.abs(h) % CLUSTER_CHANNELS;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`publish timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e as Error);
      },
    );
  });
}
