import type { Logger } from 'pino';
import type { RedisConnection } from './redis-connection';

/**
 * Queued jobs and webhook events live in Redis: an evicting memory policy or a Redis without AOF
 * can lose them. Says so loudly at start (it does not refuse: a managed Redis may hide CONFIG).
 */
export async function checkRedisDurability(client: RedisConnection['client'], logger: Logger): Promise<void> {
  try {
    const info = await (client as unknown as { info(section: string): Promise<string> }).info('persistence');
    const memory = await (client as unknown as { info(section: string): Promise<string> }).info('memory');
    const policy = /maxmemory_policy:(\S+)/.exec(memory)?.[1];
    const aof = /aof_enabled:(\d)/.exec(info)?.[1];
    if (policy && policy !== 'noeviction')
      logger.warn(
        { maxmemoryPolicy: policy },
        'Redis maxmemory-policy is not noeviction: queued jobs and webhook events can be evicted',
      );
    if (aof === '0')
      logger.warn(
        'Redis runs without AOF (appendonly no): queued jobs and webhook events are lost if Redis restarts',
      );
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, 'could not read Redis persistence settings');
  }
}
