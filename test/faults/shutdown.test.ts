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

async function startChild(extraEnv: Record<string, string> = {}) {
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
        ...extraEnv,
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

  return { base, exited, output: () => output, child: child as ChildProcess };
}

describe('SIGTERM', () => {
  it('stops accepting, lets the in-flight request finish, closes Redis and the pool, and exits 0', async () => {
    const { base, exited, output, child: server } = await startChild();
    sandbox.configure({ latencyMs: 1500 });
    const slow = fetch(`${base}/api/verification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await new Promise((r) => setTimeout(r, 300));
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    // New connections are refused while the slow one is still being served.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    const res = await slow;
    expect(res.status).toBe(201);
    expect(((await res.json()) as { status: string }).status).toBe('awaiting_user');
    expect(await exited).toBe(0);
    expect(output()).toContain('shutting down');
    expect(output()).toContain('stopped');
    sandbox.configure({ latencyMs: 0 });
  }, 40_000);

  it('answers 500 held polls at once and exits within two seconds', async () => {
    const { base, exited, output } = await startChild({
      RATE_LIMIT_STARTS_PER_IP_PER_HOUR: '200',
      RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: '600',
    });
    // 4 held polls per session (the per-session bound): 125 sessions.
    const sessions = await Promise.all(
      Array.from({ length: 125 }, async () => {
        const start = await fetch(`${base}/verification/start`, { redirect: 'manual' });
        const cookie = (start.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
        const first = await fetch(`${base}/api/verification`, { headers: { cookie } });
        return { cookie, etag: first.headers.get('etag') as string };
      }),
    );
    const held = sessions.flatMap(({ cookie, etag }) =>
      [1, 2, 3, 4].map(() =>
        fetch(`${base}/api/verification`, { headers: { cookie, prefer: 'wait=25', 'if-none-match': etag } }),
      ),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    process.kill(child?.pid as number, 'SIGTERM');
    const answers = await Promise.all(held);
    expect(await exited).toBe(0);
    const took = Date.now() - t0;
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 304));
    expect(answers.every((r) => r.headers.get('preference-applied') === 'wait=25')).toBe(true);
    expect(output()).toContain('"released":500');
    expect(took).toBeLessThan(2000);
  }, 60_000);
});
