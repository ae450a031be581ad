import { spawnSync } from 'node:child_process';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { startTestSandbox, startTestServer } from '../support/harness';
import { createPrivateRedis, type PrivateRedis } from '../support/private-redis';

let sandbox: Sandbox;
let redis: PrivateRedis;
beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await createPrivateRedis();
  await redis.start();
});
afterAll(async () => {
  redis.cleanup();
  await sandbox.close();
});

const startupWarnings = async () => {
  const server = await startTestServer({ sandbox, env: { REDIS_URL: redis.url } });
  const warnings = server.logs.lines.filter((l) => l.includes('"level":40')).join('');
  await server.close();
  return warnings;
};
const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), ...args]);

describe('start-up check of the Redis that holds queued jobs', () => {
  it('is quiet with AOF on and maxmemory-policy noeviction', async () => {
    const warnings = await startupWarnings();
    expect(warnings).not.toContain('maxmemory-policy');
    expect(warnings).not.toContain('AOF');
  });

  it('warns when the policy may evict jobs and when AOF is off', async () => {
    cli('config', 'set', 'maxmemory-policy', 'allkeys-lru');
    cli('config', 'set', 'appendonly', 'no');
    try {
      const warnings = await startupWarnings();
      expect(warnings).toContain('Redis maxmemory-policy is not noeviction');
      expect(warnings).toContain('"maxmemoryPolicy":"allkeys-lru"');
      expect(warnings).toContain('Redis runs without AOF');
    } finally {
      cli('config', 'set', 'maxmemory-policy', 'noeviction');
      cli('config', 'set', 'appendonly', 'yes');
    }
  });
});
