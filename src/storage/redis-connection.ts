import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';
import type { Logger } from 'pino';
import { createDeadlines } from './deadline';

/** The commands this project sends; both the single-node client and the cluster client provide them. */
export interface RedisCommands {
  get(key: string): Promise<string | null>;
  mGet(keys: string[]): Promise<Array<string | null>>;
  set(
    key: string,
    value: string,
    options: { expiration: { type: 'PX'; value: number }; condition?: 'NX' },
  ): Promise<string | null>;
  del(keys: string[]): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** What connect-redis calls on its client. */
interface SessionCommands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: unknown): Promise<unknown>;
  expire(key: string, seconds: number): Promise<unknown>;
  del(keys: string[]): Promise<number>;
  mGet(keys: string[]): Promise<Array<string | null>>;
}

export interface RedisConnection {
  /** The node-redis client itself (single node or cluster). */
  client: RedisClientType | RedisClusterType;
  /** What connect-redis takes: the client's commands, each with a deadline. */
  sessionClient: RedisClientType | RedisClusterType;
  commands: RedisCommands;
  isReady(): boolean;
  close(): Promise<void>;
}

export interface RedisSettings {
  url: string | undefined;
  clusterNodes: string[] | undefined;
  commandTimeoutMs: number;
}

/**
 * Connects to Redis (one node, or a cluster when `clusterNodes` is set). Commands fail fast while
 * disconnected (no offline queue, a per-command timeout) and the client reconnects by itself, so an
 * outage becomes 503 answers rather than hanging requests.
 */
export async function connectRedis(
  settings: RedisSettings,
  logger: Logger,
  waitMs = 5000,
): Promise<RedisConnection> {
  const socket = {
    connectTimeout: Math.max(1000, settings.commandTimeoutMs),
    reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
  };
  const deadlines = createDeadlines(settings.commandTimeoutMs);
  const client: RedisClientType | RedisClusterType = settings.clusterNodes
    ? createCluster({
        rootNodes: settings.clusterNodes.map((n) => ({ url: n.includes('://') ? n : `redis://${n}` })),
        defaults: { socket, disableOfflineQueue: true },
      })
    : (createClient({
        url: settings.url,
        socket,
        disableOfflineQueue: true,
      }) as RedisClientType);

  // The client reconnects by itself; log each distinct failure once per outage, not once per retry
  // (a cluster client reports one failure per root node per attempt).
  const failures = new Set<string>();
  const failed = (message: string) => {
    if (!failures.has(message)) logger.warn({ err: { message } }, 'redis connection error');
    failures.add(message);
  };
  const restored = () => {
    if (failures.size > 0) logger.info('redis connection restored');
    failures.clear();
  };
  client.on('error', (err: Error) => failed(err.message));
  // A cluster reports failures of single nodes after start-up separately.
  client.on('node-error', (err: Error) => failed(err.message));
  client.on('ready', restored);

  let closing = false;
  let retryTimer: NodeJS.Timeout | undefined;
  // A single-node client retries its first connection by itself (reconnectStrategy); the cluster
  // client does not. When no root node answers, its connect() rejects once and it stays closed for
  // good; when a node answers before the cluster has formed, it keeps a partial slot map and fails
  // every command for an uncovered slot with a TypeError, never rediscovering. Either way a server
  // started before its cluster would answer 503 forever. So: retry until all 16384 slots are served.
  const connectCluster = async (cluster: RedisClusterType): Promise<boolean> => {
    for (let attempt = 0; !closing; attempt++) {
      try {
        await cluster.connect();
        if (coversAllSlots(cluster)) {
          restored();
          return true;
        }
        cluster.destroy();
        throw new Error('the cluster does not serve all 16384 hash slots yet (is it still being created?)');
      } catch (err) {
        if (closing) break;
        failed((err as Error).message);
        await new Promise<void>((resolve) => {
          retryTimer = setTimeout(resolve, socket.reconnectStrategy(attempt));
          retryTimer.unref();
        });
      }
    }
    return false;
  };
  const connecting = settings.clusterNodes
    ? connectCluster(client as RedisClusterType)
    : client.connect().then(
        () => true,
        () => false,
      );
  const connected = await Promise.race([
    connecting,
    new Promise<boolean>((r) => setTimeout(r, waitMs, false).unref()),
  ]);
  if (!connected)
    logger.error('redis is not reachable yet; serving 503 until it is (the client keeps retrying)');

  // Both client types implement these commands with the same argument shapes; the union type itself is not callable.
  const raw = client as unknown as RedisCommands & SessionCommands;
  const commands: RedisCommands = {
    get: (key) => deadlines.within(raw.get(key)),
    mGet: (keys) => deadlines.within(raw.mGet(keys)),
    set: (key, value, options) => deadlines.within(raw.set(key, value, options)),
    del: (keys) => deadlines.within(raw.del(keys)),
    eval: (script, options) => deadlines.within(raw.eval(script, options)),
  };
  const sessionCommands: SessionCommands = {
    get: commands.get,
    mGet: commands.mGet,
    del: commands.del,
    set: (key, value, options) => deadlines.within(raw.set(key, value, options as never)),
    expire: (key, seconds) => deadlines.within(raw.expire(key, seconds)),
  };

  return {
    client,
    // connect-redis only calls the commands above; its type names the client classes.
    sessionClient: sessionCommands as unknown as RedisClientType,
    commands,
    isReady: () =>
      'isReady' in client
        ? Boolean((client as RedisClientType).isReady)
        : client.isOpen && coversAllSlots(client),
    async close() {
      closing = true;
      deadlines.stop();
      clearTimeout(retryTimer);
      // close() lets pending replies arrive; while Redis is unreachable it would wait for a reconnect
      // that may never come (and keep the process alive), so it gets a bound, then the socket goes.
      let bound: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        client.close().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => {
          bound = setTimeout(() => resolve(false), 1000);
        }),
      ]);
      clearTimeout(bound);
      if (!closed) client.destroy();
    },
  };
}

const CLUSTER_SLOTS = 16384;

/** True when the cluster client knows a master for every hash slot (its slot array is sparse until then). */
function coversAllSlots(cluster: RedisClusterType): boolean {
  const { slots } = cluster;
  if (slots.length < CLUSTER_SLOTS) return false;
  for (let i = 0; i < CLUSTER_SLOTS; i++) if (!slots[i]?.master) return false;
  return true;
}
