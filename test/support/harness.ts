import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import {
  defaultSandboxOptions,
  startSandbox,
  type Sandbox,
  type SandboxOptions,
} from '../../src/sandbox/sandbox-server';
import {
  applyHttpTimeouts,
  createHttpServer,
  createRuntime,
  type HttpServerOptions,
  stopHttpServer,
  type Runtime,
  type RuntimeOptions,
} from '../../src/server';

/** Rate limits out of the way, for suites that send many requests from one address and session on purpose. */
export const HIGH_RATE_LIMITS: Record<string, string> = {
  RATE_LIMIT_STARTS_PER_SESSION_PER_HOUR: '100000',
  RATE_LIMIT_STARTS_PER_IP_PER_HOUR: '100000',
  RATE_LIMIT_CALLBACKS_PER_IP_PER_MINUTE: '1000000',
  RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: '100000',
};

export const TEST_CLIENT = {
  clientId: 'test-client',
  clientSecret: 'test-secret-' + randomBytes(8).toString('hex'),
};

export function redisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url)
    throw new Error(
      'TEST_REDIS_URL is not set: the jest globalSetup (test/support/global-setup.ts) did not run',
    );
  return url;
}

export async function startTestSandbox(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  return startSandbox(
    { ...defaultSandboxOptions, ...TEST_CLIENT, reportDelayMs: 0, ...options },
    { port: 0 },
  );
}

/** Captures every log line a server writes, to assert on them. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(chunk.toString());
    cb();
  }
  text(): string {
    return this.lines.join('');
  }
}

export interface TestServer {
  url: string;
  runtime: Runtime;
  sandbox: Sandbox;
  prefix: string;
  logs: LogCapture;
  close(): Promise<void>;
}

export interface TestServerOptions {
  sandbox: Sandbox;
  env?: Record<string, string>;
  /** false: the in-process store. */
  redis?: boolean;
  /** Share a key prefix (and so sessions and verifications) with another instance. */
  prefix?: string;
  runtime?: RuntimeOptions;
}

/** What every test server runs with: the sandbox as provider, test secrets, fast report jobs. */
export function testServerEnv(publicBaseUrl: string, sandboxUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PUBLIC_BASE_URL: publicBaseUrl,
    FINX_API_URL: sandboxUrl,
    FINX_CLIENT_ID: TEST_CLIENT.clientId,
    FINX_CLIENT_SECRET: TEST_CLIENT.clientSecret,
    WIDGET_ALLOWED_ORIGINS: new URL(sandboxUrl).origin,
    SESSION_SECRET: 'a-test-session-secret-of-at-least-32-chars',
    REPORT_POLL_INTERVAL_MS: '200',
  };
}

/** Starts the real server in-process on a free port, pointed at the sandbox and a real Redis with its own key prefix. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  let app: http.RequestListener = (_req, res) => res.end();
  const httpOptions: HttpServerOptions = {};
  const server = createHttpServer(
    (req: http.IncomingMessage, res: http.ServerResponse) => app(req, res),
    httpOptions,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const prefix = options.prefix ?? `test:${randomBytes(6).toString('hex')}:`;
  const logs = new LogCapture();
  const config = loadConfig({
    ...testServerEnv(url, options.sandbox.url),
    TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    REDIS_KEY_PREFIX: prefix,
    // Applicant.poll polls every 50 ms; the limits have their own tests.
    RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: '100000',
    ...(options.redis === false ? {} : { REDIS_URL: redisUrl() }),
    ...options.env,
  });
  const logger = createLogger(config.logLevel, logs);
  const runtime = await createRuntime(config, {
    logger,
    sandbox: options.sandbox,
    ...options.runtime,
  });
  app = runtime.app;
  httpOptions.logger = logger;
  applyHttpTimeouts(server, config.http);
  return {
    url,
    runtime,
    sandbox: options.sandbox,
    prefix,
    logs,
    /** Stops the server and deletes what it stored under its prefix in the shared test Redis. */
    async close() {
      runtime.releaseWaiting();
      await stopHttpServer(server, 2000);
      await runtime.close();
      if (options.redis !== false) {
        const redis = await inspectRedis();
        await redis.dropPrefix(prefix);
        await redis.close();
      }
    },
  };
}

/** A file's one sandbox and one server (and a Redis inspector when the server uses Redis). */
export interface SharedServer {
  sandbox: Sandbox;
  server: TestServer;
  redis: Awaited<ReturnType<typeof inspectRedis>>;
}

/**
 * For a file whose tests share one sandbox and one server: starts them in beforeAll and closes them
 * in afterAll. The fields are set once beforeAll has run: read them in hooks and tests, not at load.
 */
export function useSharedServer(
  options: { sandbox?: Partial<SandboxOptions> } & Omit<TestServerOptions, 'sandbox'> = {},
): SharedServer {
  const { sandbox: sandboxOptions, ...serverOptions } = options;
  const shared = {} as SharedServer;
  beforeAll(async () => {
    shared.sandbox = await startTestSandbox(sandboxOptions);
    shared.server = await startTestServer({ sandbox: shared.sandbox, ...serverOptions });
    if (options.redis !== false) shared.redis = await inspectRedis();
  });
  afterAll(async () => {
    await shared.server?.close();
    await shared.sandbox?.close();
    await shared.redis?.close();
  });
  return shared;
}

/**
 * Keys that hold something of a verification. The `known` tombstone holds only "1": it outlives
 * deletion so that the lender's reads answer 410 gone rather than 404.
 */
export const holdsData = (key: string): boolean => !key.endsWith(':known');

/** A plain Redis client for inspecting and cleaning up what the server stored. */
export async function inspectRedis(): Promise<
  RedisClientType & {
    keysUnder(prefix: string): Promise<string[]>;
    dropPrefix(prefix: string): Promise<void>;
  }
> {
  const client = createClient({ url: redisUrl() }) as RedisClientType;
  await client.connect();
  return Object.assign(client, {
    async keysUnder(prefix: string) {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
      return keys.sort();
    },
    /** Drops the prefix's keys and its job queue's (`{<prefix>jobs}…`, hash-tagged). */
    async dropPrefix(prefix: string) {
      for (const match of [`${prefix}*`, `{${prefix}jobs}*`])
        for await (const batch of client.scanIterator({ MATCH: match, COUNT: 500 }))
          for (const key of batch) await client.del(key);
    },
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
