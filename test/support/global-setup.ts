import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';

/** Finds a Redis for the suite: REDIS_URL, else 127.0.0.1:6379, else a private redis-server. Never skips. */
export default async function globalSetup(): Promise<void> {
  const candidates = [process.env.REDIS_URL, 'redis://127.0.0.1:6379'].filter((u): u is string => !!u);
  for (const url of candidates) {
    if (await answers(url)) {
      process.env.TEST_REDIS_URL = url;
      return;
    }
  }
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bff-redis-'));
  const pidfile = path.join(dir, 'redis.pid');
  const started = spawnSync(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'yes'],
    { stdio: 'ignore', cwd: dir },
  );
  if (started.error || started.status !== 0) {
    throw new Error(
      'The tests need Redis and none answered at REDIS_URL or 127.0.0.1:6379, and `redis-server` could not be started. ' +
        'Install it (Debian: `apt-get install -y redis-server`) or set REDIS_URL to a Redis you own.',
    );
  }
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await answers(url)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await answers(url))) throw new Error(`redis-server was started on port ${port} but does not answer`);
  process.env.TEST_REDIS_URL = url;
  process.env.TEST_REDIS_PIDFILE = pidfile;
  process.env.TEST_REDIS_PORT = String(port);
}

async function answers(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    if (client.isOpen) await client.close().catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
