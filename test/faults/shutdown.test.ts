import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { inspectRedis, redisUrl, startTestSandbox, TEST_CLIENT } from '../support/harness';

let sandbox: Sandbox;
let child: ChildProcess | undefined;
const prefix = `test:shutdown:${process.pid}:`;

beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  const redis = await inspectRedis();
  await redis.dropPrefix(prefix);
  await redis.close();
  await sandbox.close();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('SIGTERM', () => {
  it('stops accepting, lets the in-flight request finish, closes Redis and the pool, and exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '../../src/server.ts')],
      {
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          HOST: '127.0.0.1',
          PUBLIC_BASE_URL: base,
          FINX_API_URL: sandbox.url,
          FINX_CLIENT_ID: TEST_CLIENT.clientId,
          FINX_CLIENT_SECRET: TEST_CLIENT.clientSecret,
          WIDGET_ALLOWED_ORIGINS: new URL(sandbox.url).origin,
          REDIS_URL: redisUrl(),
          REDIS_KEY_PREFIX: prefix,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

    const deadline = Date.now() + 20_000;
    while (!output.includes('listening')) {
      if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    sandbox.configure({ latencyMs: 1500 });
    const slow = fetch(`${base}/api/verification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    // New connections are refused while the slow one is still being served.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    const res = await slow;
    expect(res.status).toBe(201);
    expect(((await res.json()) as { status: string }).status).toBe('awaiting_user');
    expect(await exited).toBe(0);
    expect(output).toContain('shutting down');
    expect(output).toContain('stopped');
    sandbox.configure({ latencyMs: 0 });
  }, 40_000);
});
