import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../../bench/processes';

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
      shutdown(port, dir, []);
    },
    cleanup() {
      shutdown(port, dir, ['nosave']);
      // The process is gone, but be lenient with a file system that is slow to let go of a directory.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

/**
 * SHUTDOWN answers by closing the connection, before the daemon has finished writing its
 * append-only file and exited: wait for the process itself, or the next start finds the port taken
 * and a cleanup finds files still being written (ENOTEMPTY on rmdir).
 */
function shutdown(port: number, dir: string, args: string[]): void {
  const pid = readPid(dir);
  spawnSync('redis-cli', ['-p', String(port), 'shutdown', ...args], { encoding: 'utf8' });
  if (pid === undefined) return;
  const deadline = Date.now() + 10_000;
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    sleepSync(20);
  }
}

function readPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, 'redis.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
