import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A redis-server of the test's own, with the append-only file on, that the test may stop and start again. */
export interface PrivateRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): void;
  cleanup(): void;
}

export async function createPrivateRedis(): Promise<PrivateRedis> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(p));
    });
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bff-private-redis-'));
  const answers = () =>
    spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      const res = spawnSync(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          // As production must run it for queued jobs: nothing is ever evicted.
          '--maxmemory-policy',
          'noeviction',
          // Tests stall it with DEBUG SLEEP.
          '--enable-debug-command',
          'local',
          '--dir',
          dir,
          '--daemonize',
          'yes',
          '--pidfile',
          path.join(dir, 'redis.pid'),
          '--logfile',
          path.join(dir, 'redis.log'),
        ],
        { encoding: 'utf8' },
      );
      if (res.error || res.status !== 0) {
        throw new Error(
          `could not start redis-server (install it: apt-get install -y redis-server): ${res.error?.message ?? res.stderr}`,
        );
      }
      for (let i = 0; i < 100 && !answers(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!answers()) throw new Error(`redis-server on port ${port} did not answer`);
    },
    stop() {
      spawnSync('redis-cli', ['-p', String(port), 'shutdown'], { encoding: 'utf8' });
    },
    cleanup() {
      spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { encoding: 'utf8' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
