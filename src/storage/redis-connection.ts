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

  let lastError = '';
  client.on('error', (err: Error) => {
    // The client reconnects by itself; log each distinct failure once, not once per retry.
    if (err.message !== lastError) logger.warn({ err: { message: err.message } }, 'redis connection error');
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) logger.info('redis connection restored');
    lastError = '';
  });

  const connecting = client.connect().then(
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
    isReady: () => ('isReady' in client ? Boolean((client as RedisClientType).isReady) : true),
    async close() {
      try {
        await client.close();
      } catch {
        client.destroy();
      }
    },
  };
}
