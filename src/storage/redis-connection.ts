import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';
import type { Logger } from 'pino';

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

export interface RedisConnection {
  /** What connect-redis takes. */
  client: RedisClientType | RedisClusterType;
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
  const commandOptions = { timeout: settings.commandTimeoutMs };
  const client: RedisClientType | RedisClusterType = settings.clusterNodes
    ? createCluster({
        rootNodes: settings.clusterNodes.map((n) => ({ url: n.includes('://') ? n : `redis://${n}` })),
        defaults: { socket, disableOfflineQueue: true },
        commandOptions,
      })
    : (createClient({
        url: settings.url,
        socket,
        disableOfflineQueue: true,
        commandOptions,
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

  return {
    client,
    // Both client types implement these commands with the same argument shapes; the union type itself is not callable.
    commands: client as unknown as RedisCommands,
    isReady: () =>
      'isReady' in client
        ? Boolean((client as RedisClientType).isReady)
        : client.isOpen && coversAllSlots(client),
    async close() {
      closing = true;
      clearTimeout(retryTimer);
      try {
        await client.close();
      } catch {
        client.destroy();
      }
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
