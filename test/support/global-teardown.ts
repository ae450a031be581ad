import { spawnSync } from 'node:child_process';

export default async function globalTeardown(): Promise<void> {
  const port = process.env.TEST_REDIS_PORT;
  if (port) spawnSync('redis-cli', ['-p', port, 'shutdown', 'nosave'], { stdio: 'ignore' });
}
