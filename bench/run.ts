/**
 * `npm run bench`: load and fan-in benchmarks of `GET /api/verification` (see bench/README.md).
 * Every server runs in its own child process; autocannon runs here. Prints a markdown table and
 * writes it to bench/results.md.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type RedisClientType } from 'redis';
import { createEnvelopeCipher } from '../src/storage/envelope-cipher';
import { createStorageKeys } from '../src/storage/storage-keys';
import { cloneVerifications, memoryUsage, readVerification } from './clone-verifications';
import { completeFlow, NAIVE_ROUTES, OUR_ROUTES, readySessions } from './flows';
import { assertAllOk, runLoad, runPaced, waitForQuiet, type LoadOptions, type LoadResult } from './load';
import { formatSummary } from './profile-summary';
import { freePort, REPO_ROOT, startChild, type Child, type ChildOptions } from './processes';
import { benchWebhooks, type WebhookBenchResult } from './webhooks';
import { benchPush, type HeldResult, type PushBenchResult } from './push';

const quick = process.env.BENCH_QUICK === '1';
function setting(name: string, full: number, quickValue: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return quick ? quickValue : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const settings = {
  durationS: setting('BENCH_DURATION_S', 30, 5),
  sessions: Math.round(setting('BENCH_SESSIONS', 50, 10)),
  fanInS: setting('BENCH_FANIN_S', 10, 3),
  memorySessions: Math.round(setting('BENCH_MEMORY_SESSIONS', 10_000, 1000)),
  pushVerifications: Math.round(setting('BENCH_PUSH_VERIFICATIONS', 200, 50)),
  heldRequests: Math.round(setting('BENCH_HELD_REQUESTS', 10_000, 1000)),
  warmupS: setting('BENCH_WARMUP_S', 3, 1),
  connections: Math.round(setting('BENCH_CONNECTIONS', 50, 50)),
  rate: setting('BENCH_RATE', 500, 500),
  fanInConnections: 200,
  pollIntervalMs: 2000,
  webhookVerifications: Math.round(setting('BENCH_WEBHOOK_VERIFICATIONS', 200, 50)),
  /** How long to wait, at most, for other processes to calm down before each measured run. */
  quietWaitS: setting('BENCH_QUIET_WAIT_S', 30, 5),
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  /** BENCH_ONLY=many,push: only these sections (ours, floor, naive, fanin, many, push, held (push's row 9 alone), webhooks); results.md is left as it was. */
  only: new Set(
    (process.env.BENCH_ONLY ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ),
};
const SECTIONS = ['ours', 'floor', 'naive', 'fanin', 'many', 'push', 'held', 'webhooks'];
for (const name of settings.only)
  if (!SECTIONS.includes(name))
    throw new Error(`BENCH_ONLY: unknown section "${name}" (${SECTIONS.join(', ')})`);
const runs = (section: string) => settings.only.size === 0 || settings.only.has(section);

const REDIS_URL = 'redis://127.0.0.1:6379';
const HIGH_LIMIT = '100000000';
/** Profiles and memory reports from the children; ignored by git. */
const OUT_DIR = path.join(REPO_ROOT, 'bench', 'profiles');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results.md');

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const secrets = {
  clientId: 'bench-client',
  clientSecret: `bench-${randomBytes(12).toString('hex')}`,
  sessionSecret: randomBytes(32).toString('base64url'),
  encryptionKey: randomBytes(32),
  keyId: 'k1',
};
const runId = randomBytes(6).toString('hex');
const prefix = `bench:${runId}:`;
const keys = createStorageKeys(prefix);

interface MemoryReading {
  /** From /proc, as the process stands. */
  rss: number;
  /** After a full garbage collection. */
  rssAfterGc: number;
  heapUsedAfterGc: number;
}

interface Rows {
  load: Array<{ name: string; connections: number; result: LoadResult; bodyBytes?: number }>;
  ours?: LoadResult;
  rated?: LoadResult;
  paced?: LoadResult;
  floor?: LoadResult;
  naive?: LoadResult;
  fanIn?: { polls: number; upstream: number; result: LoadResult };
  memory?: { before: MemoryReading; after: MemoryReading; sessions: number };
  redisBytes?: Record<string, number>;
  profiles: string[];
  webhooks?: WebhookBenchResult;
  /** Ours and the floor, each session of the memory run polled once. */
  manyOurs?: LoadResult;
  manyFloor?: LoadResult;
  push?: PushBenchResult;
}

async function main(): Promise<void> {
  const redis = createClient({ url: REDIS_URL }) as RedisClientType;
  redis.on('error', (err: Error) => log(`redis: ${err.message}`));
  await redis.connect();
  const serverInfo = await redis.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(serverInfo)?.[1] ?? 'unknown';
  const redisPid = Number(/process_id:(\d+)/.exec(serverInfo)?.[1]) || undefined;
  let sandboxPid: number | undefined;
  const children: Child[] = [];
  const rows: Rows = { load: [], profiles: [] };
  const started = new Date();

  const start = async (options: ChildOptions, profile = false): Promise<Child> => {
    const profiling = profile && settings.cpuProfile;
    const child = await startChild({
      ...options,
      ...(profiling
        ? {
            preload: [...(options.preload ?? []), './bench/profile-hook.ts'],
            env: {
              ...options.env,
              BENCH_PROFILE_DIR: OUT_DIR,
              BENCH_PROFILE_NAME: `${options.name}-${runId}`,
              BENCH_PROFILE_HEAP: process.env.BENCH_PROFILE_HEAP ?? '',
            },
          }
        : {}),
    });
    children.push(child);
    log(`${options.name} listening on ${child.url} (pid ${child.pid})`);
    return child;
  };
  const stop = async (child: Child) => {
    await child.stop();
    children.splice(children.indexOf(child), 1);
  };
  /** One measured run: waits for a quiet machine first; with BENCH_CPU_PROF=1 and `profile`, profiles the server during it. */
  const load = async (
    name: string,
    options: LoadOptions,
    extra: { bodyBytes?: number; profile?: boolean; paced?: boolean; table?: boolean } = {},
  ): Promise<LoadResult> => {
    const quiet = await waitForQuiet(benchPids(options.server), settings.quietWaitS * 1000);
    if (quiet >= 0.25) log(`other processes keep using ${quiet.toFixed(2)} cores; measuring anyway`);
    log(`${name}: ${options.amount ?? `${options.durationS} s`} with ${options.connections} connections…`);
    const profiling = Boolean(extra.profile && settings.cpuProfile && options.server);
    if (profiling) options.server?.signal('SIGUSR2');
    const result = extra.paced
      ? await runPaced({
          url: options.url,
          cookies: options.cookies,
          rate: options.overallRate ?? settings.rate,
          durationS: options.durationS ?? settings.durationS,
          connections: options.connections,
          ...(options.server ? { server: options.server } : {}),
          benchPids: benchPids(options.server),
        })
      : await runLoad({ ...options, benchPids: benchPids(options.server) });
    if (profiling && options.server) {
      options.server.signal('SIGUSR2');
      rows.profiles.push(await profileOf(`${options.server.name}-${runId}`));
    }
    assertAllOk(name, result);
    if (extra.table !== false)
      rows.load.push({
        name,
        connections: options.connections,
        result,
        ...(extra.bodyBytes ? { bodyBytes: extra.bodyBytes } : {}),
      });
    log(
      `${name}: ${Math.round(result.requestsPerS)} req/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, ` +
        `server CPU ${pct(result.serverCpu)}, other CPU ${result.otherCpu.toFixed(2)} cores`,
    );
    return result;
  };
  const benchPids = (server: Child | undefined) =>
    [sandboxPid, redisPid, ...(server ? [server.pid] : [])].filter((p): p is number => p !== undefined);
  const warmUp = (url: string, cookies: string[], server: Child) =>
    runLoad({ url, cookies, connections: settings.connections, durationS: settings.warmupS, server }).then(
      (r) => assertAllOk('warm-up', r),
    );

  try {
    mkdirSync(OUT_DIR, { recursive: true });
    log(`run ${runId}: keys under ${prefix}`);
    const sandboxPort = await freePort();
    const sandbox = await start({
      name: 'sandbox',
      file: 'src/sandbox/main.ts',
      port: sandboxPort,
      readyPath: '/__sandbox/stats',
      env: {
        SANDBOX_PORT: String(sandboxPort),
        SANDBOX_HOST: '127.0.0.1',
        SANDBOX_CLIENT_ID: secrets.clientId,
        SANDBOX_CLIENT_SECRET: secrets.clientSecret,
        SANDBOX_REPORT_DELAY_MS: '0',
      },
    });
    sandboxPid = sandbox.pid;
    const ourServer = async (name: string, profile = false, extra: Partial<ChildOptions> = {}) => {
      const port = await freePort();
      return start(
        {
          name,
          file: 'src/server.ts',
          port,
          readyPath: '/readyz',
          ...(extra.preload ? { preload: extra.preload } : {}),
          // BENCH_SERVER_NODE_ARGS: node flags for our server only (e.g. GC settings), to try them against the same floor.
          nodeArgs: (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
          env: {
            ...extra.env,
            PORT: String(port),
            HOST: '127.0.0.1',
            PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
            FINX_API_URL: sandbox.url,
            FINX_CLIENT_ID: secrets.clientId,
            FINX_CLIENT_SECRET: secrets.clientSecret,
            WIDGET_ALLOWED_ORIGINS: sandbox.url,
            REDIS_URL,
            REDIS_KEY_PREFIX: prefix,
            SESSION_SECRET: secrets.sessionSecret,
            TOKEN_ENCRYPTION_KEY: secrets.encryptionKey.toString('base64'),
            TOKEN_ENCRYPTION_KEY_ID: secrets.keyId,
            REPORT_POLL_INTERVAL_MS: String(settings.pollIntervalMs),
            RATE_LIMIT_STARTS_PER_SESSION_PER_HOUR: HIGH_LIMIT,
            RATE_LIMIT_STARTS_PER_IP_PER_HOUR: HIGH_LIMIT,
            RATE_LIMIT_CALLBACKS_PER_IP_PER_MINUTE: HIGH_LIMIT,
            RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: HIGH_LIMIT,
            LOG_LEVEL: 'warn',
          },
        },
        profile,
      );
    };
    const pollUrl = (child: Child) => `${child.url}/api/verification`;
    /** bench/floor-server.ts on the same Redis data and secrets, profiled with BENCH_CPU_PROF=1. */
    const floorServer = async (name: string) => {
      const port = await freePort();
      return start(
        {
          name,
          file: 'bench/floor-server.ts',
          port,
          readyPath: '/healthz',
          env: {
            PORT: String(port),
            REDIS_URL,
            REDIS_KEY_PREFIX: prefix,
            SESSION_SECRET: secrets.sessionSecret,
            TOKEN_ENCRYPTION_KEY: secrets.encryptionKey.toString('base64'),
            TOKEN_ENCRYPTION_KEY_ID: secrets.keyId,
            WIDGET_ALLOWED_ORIGINS: sandbox.url,
          },
        },
        true,
      );
    };

    // 1. Ours: N real flows to `ready`, then polls with the cookies in turn.
    const ours = await ourServer('ours', true);
    log(`driving ${settings.sessions} flows to ready…`);
    const flows = await readySessions(ours.url, OUR_ROUTES, settings.sessions);
    const cookies = flows.map((f) => f.cookie);
    const readyBody = flows[0]?.body ?? '';
    const template = await readVerification(redis, keys, cookies[0] as string);
    const cipher = createEnvelopeCipher({ id: secrets.keyId, key: secrets.encryptionKey });
    /** The main run of a server: the warm sessions in turn, as fast as it answers, profiled with BENCH_CPU_PROF=1. */
    const mainRun = (name: string, server: Child, body: string) =>
      load(
        name,
        {
          url: pollUrl(server),
          cookies,
          connections: settings.connections,
          durationS: settings.durationS,
          server,
        },
        { bodyBytes: Buffer.byteLength(body), profile: true },
      );
    if (runs('ours')) {
      await warmUp(pollUrl(ours), cookies, ours);
      rows.ours = await mainRun('ours', ours, readyBody);
      const rated: LoadOptions = {
        url: pollUrl(ours),
        cookies,
        connections: settings.connections,
        durationS: settings.durationS,
        overallRate: settings.rate,
        server: ours,
      };
      rows.rated = await load(`ours at ${settings.rate} req/s (autocannon overallRate)`, rated);
      rows.paced = await load(`ours at ${settings.rate} req/s (evenly paced)`, rated, { paced: true });
      rows.redisBytes = await memoryUsage(redis, template);
    }
    await stop(ours);

    // 2. The floor: the same sessions, read straight from Redis by a bare node:http server.
    if (runs('floor')) {
      const floor = await floorServer('floor');
      const floorBody = await (
        await fetch(pollUrl(floor), { headers: { cookie: cookies[0] as string } })
      ).text();
      if (floorBody !== readyBody)
        throw new Error(`the floor answers a different body:\n${floorBody.slice(0, 300)}`);
      await warmUp(pollUrl(floor), cookies, floor);
      rows.floor = await mainRun('floor', floor, floorBody);
      await stop(floor);
    }

    // 3. The naive baseline: its own sessions, its own flows.
    if (runs('naive')) {
      const naivePort = await freePort();
      const naive = await start(
        {
          name: 'naive',
          file: 'bench/naive-server.ts',
          port: naivePort,
          readyPath: '/healthz',
          env: {
            PORT: String(naivePort),
            PUBLIC_BASE_URL: `http://127.0.0.1:${naivePort}`,
            FINX_API_URL: sandbox.url,
            FINX_CLIENT_ID: secrets.clientId,
            FINX_CLIENT_SECRET: secrets.clientSecret,
            REDIS_URL,
            REDIS_KEY_PREFIX: prefix,
            SESSION_SECRET: secrets.sessionSecret,
          },
        },
        true,
      );
      log(`driving ${settings.sessions} naive flows to ready…`);
      const naiveFlows = await readySessions(naive.url, NAIVE_ROUTES, settings.sessions);
      const naiveCookies = naiveFlows.map((f) => f.cookie);
      await warmUp(pollUrl(naive), naiveCookies, naive);
      rows.naive = await load(
        'naive',
        {
          url: pollUrl(naive),
          cookies: naiveCookies,
          connections: settings.connections,
          durationS: settings.durationS,
          server: naive,
        },
        { bodyBytes: Buffer.byteLength(naiveFlows[0]?.body ?? ''), profile: true },
      );
      await stop(naive);
    }

    // 4. Fan-in: one pending report, many pollers; count what reaches the provider.
    if (runs('fanin')) {
      await sandboxControl(sandbox, '/__sandbox/config', { latencyMs: 50, reportDelayMs: 600_000 });
      const fan = await ourServer('ours (fan-in)');
      // Warmed on the ready sessions, so the pending one meets compiled code, not a cold start.
      await warmUp(pollUrl(fan), cookies, fan);
      const browser = await completeFlow(fan.url, OUR_ROUTES);
      const fanCookie = browser.cookie as string;
      await sandboxControl(sandbox, '/__sandbox/reset-stats', {});
      const fanResult = await load(`ours, fan-in on one pending report`, {
        url: pollUrl(fan),
        cookies: [fanCookie],
        connections: settings.fanInConnections,
        durationS: settings.fanInS,
        server: fan,
      });
      const stats = (await (await fetch(`${sandbox.url}/__sandbox/stats`)).json()) as {
        reportFetches: { total: number };
      };
      const last = (await (await fetch(pollUrl(fan), { headers: { cookie: fanCookie } })).json()) as {
        status: string;
      };
      if (last.status !== 'processing')
        throw new Error(`fan-in: the report should still be pending, is ${last.status}`);
      rows.fanIn = { polls: fanResult.requests, upstream: stats.reportFetches.total, result: fanResult };
      await stop(fan);
      await sandboxControl(sandbox, '/__sandbox/config', { latencyMs: 0, reportDelayMs: 0 });
    }

    // 5. Memory: a fresh server, then many sessions each polled once.
    if (runs('many')) {
      log(`writing ${settings.memorySessions} verifications to Redis…`);
      const clones = await cloneVerifications(
        redis,
        keys,
        cipher,
        template,
        settings.memorySessions,
        OUR_ROUTES.cookieName,
        secrets.sessionSecret,
      );
      // Warm-ups meet the same kind of request as the run (a session not seen before), on sessions
      // of their own: the 50 warm sessions would leave the cache-miss path to be compiled during the
      // run, on a run of about a second.
      const warmClones = await cloneVerifications(
        redis,
        keys,
        cipher,
        template,
        Math.min(2000, settings.memorySessions),
        OUR_ROUTES.cookieName,
        secrets.sessionSecret,
      );
      const warmUpOnMisses = (server: Child) =>
        runLoad({
          url: pollUrl(server),
          cookies: warmClones,
          connections: settings.connections,
          amount: warmClones.length,
          server,
        }).then((r) => assertAllOk('warm-up', r));
      /** Each cloned session polled once, every request a cache miss. */
      const pollEachOnce = (name: string, server: Child, table = true) =>
        load(
          `${name}, ${int(settings.memorySessions)} sessions polled once`,
          {
            url: pollUrl(server),
            cookies: clones,
            connections: settings.connections,
            amount: clones.length,
            server,
          },
          { profile: true, table },
        );

      // Memory on a server of its own: the hook that reads it keeps an inspector session whose heap
      // profiler, once used, tracks every object the collector moves. On the server measured for
      // throughput that had cost a third of a poll's CPU (105 vs 60 µs per request).
      if (!settings.cpuProfile) {
        const memoryFile = path.join(OUT_DIR, `memory-${runId}.json`);
        const mem = await ourServer('ours (memory)', false, {
          preload: ['./bench/memory-hook.ts'],
          env: { BENCH_MEMORY_FILE: memoryFile },
        });
        await warmUp(pollUrl(mem), cookies, mem);
        await sleep(1000);
        const before = { rss: mem.rssBytes(), ...(await heapAfterGc(mem, memoryFile)) };
        await pollEachOnce('ours (memory)', mem, false);
        await sleep(1000);
        const after = { rss: mem.rssBytes(), ...(await heapAfterGc(mem, memoryFile)) };
        rows.memory = { before, after, sessions: clones.length };
        await stop(mem);
      }

      const many = await ourServer('ours (many sessions)', true);
      await warmUpOnMisses(many);
      const cloneBody = await (
        await fetch(pollUrl(many), { headers: { cookie: clones[0] as string } })
      ).text();
      if (cloneBody !== readyBody)
        throw new Error(`a cloned verification answers:\n${cloneBody.slice(0, 300)}`);
      rows.manyOurs = await pollEachOnce('ours', many);
      await stop(many);

      // 5b. The floor on the same distinct sessions, each polled once (the same Redis reads per request).
      const floor2 = await floorServer('floor (many sessions)');
      await warmUpOnMisses(floor2);
      rows.manyFloor = await pollEachOnce('floor', floor2);
      await stop(floor2);
    }

    // 7. Held polls (Prefer: wait): ready → page, requests per verification, 10,000 held at once.
    if (runs('push') || settings.only.has('held'))
      rows.push = await benchPush({
        heldOnly: !runs('push'),
        startServer: (name, env, profile) => ourServer(name, profile ?? false, env ? { env } : {}),
        startFloor: () => floorServer('floor (10k held)'),
        ...(settings.cpuProfile
          ? {
              onWake: async (child: Child, phase: 'start' | 'end') => {
                child.signal('SIGUSR2');
                if (phase === 'end') rows.profiles.push(await profileOf(`${child.name}-${runId}`));
              },
            }
          : {}),
        stopServer: async (child) => {
          if (children.includes(child)) await stop(child);
        },
        sandboxConfig: (options) => sandboxControl(sandbox, '/__sandbox/config', options),
        redis,
        redisUrl: REDIS_URL,
        keys,
        keyPrefix: prefix,
        cipher,
        template,
        sessionSecret: secrets.sessionSecret,
        log,
        verifications: settings.pushVerifications,
        held: settings.heldRequests,
      });

    // 6. Webhooks: many verifications become ready together; each is delivered to a receiver here.
    if (runs('webhooks')) {
      rows.webhooks = await benchWebhooks({
        startServer: (env) =>
          ourServer('ours (webhooks)', false, { env: { ...env, WEBHOOK_RETRY_SCHEDULE_S: '1,2,5' } }),
        stopServer: stop,
        sandboxConfig: (options) => sandboxControl(sandbox, '/__sandbox/config', options),
        log,
        count: settings.webhookVerifications,
      });
      log(
        `webhooks: ${rows.webhooks.delivered}/${rows.webhooks.verifications} delivered, p50 ${ms(rows.webhooks.p50)}, ` +
          `p99 ${ms(rows.webhooks.p99)}, ${rows.webhooks.duplicates} duplicates`,
      );
    }
  } catch (err) {
    for (const child of children) log(`--- last output of ${child.name} ---\n${child.tail()}`);
    throw err;
  } finally {
    for (const child of [...children].reverse()) await child.stop().catch(() => undefined);
    await dropPrefix(redis, prefix);
    await redis.close();
  }

  const table = render(rows, started, redisVersion);
  process.stdout.write(`${table}\n`);
  if (settings.cpuProfile) {
    process.stdout.write(`\n${rows.profiles.join('\n\n')}\n`);
    log('profiling slows the servers: bench/results.md is left as it was');
  } else if (settings.only.size > 0) {
    log('BENCH_ONLY: a partial run; bench/results.md is left as it was');
  } else {
    writeFileSync(RESULTS_FILE, `${table}\n`);
    log(`written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
  }
}

/** Asks the memory hook for a full collection and reads what it reports (bounded wait). */
async function heapAfterGc(child: Child, file: string): Promise<Omit<MemoryReading, 'rss'>> {
  rmSync(file, { force: true });
  child.signal('SIGUSR2');
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  if (!existsSync(file)) throw new Error(`${child.name}: the memory hook wrote no ${file}`);
  const usage = JSON.parse(readFileSync(file, 'utf8')) as NodeJS.MemoryUsage;
  rmSync(file, { force: true });
  return { rssAfterGc: usage.rss, heapUsedAfterGc: usage.heapUsed };
}

/** Waits (bounded) for the profile the hook writes after the second SIGUSR2, and summarises it. */
async function profileOf(name: string): Promise<string> {
  const file = path.join(OUT_DIR, `${name}.cpuprofile`);
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  return existsSync(file) ? formatSummary(file) : `no profile written at ${file}`;
}

async function sandboxControl(sandbox: Child, route: string, body: unknown): Promise<void> {
  const res = await fetch(sandbox.url + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 200) throw new Error(`sandbox ${route} answered ${res.status}: ${await res.text()}`);
}

async function dropPrefix(redis: RedisClientType, keyPrefix: string): Promise<void> {
  let deleted = 0;
  for await (const batch of redis.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) {
    if (batch.length > 0) deleted += await redis.del(batch);
  }
  log(`deleted ${deleted} keys under ${keyPrefix}`);
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const int = (value: number) => Math.round(value).toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const pct = (share: number | undefined) => (share === undefined ? '–' : `${Math.round(share * 100)} %`);
/** Server CPU time per answered request: comparable across runs even when the machine limits throughput. */
const perRequest = (r: LoadResult) =>
  r.serverCpu === undefined ? '–' : `${Math.round((r.serverCpu * 1e6) / r.requestsPerS)} µs`;
const yes = (met: boolean) => (met ? 'yes' : '**no**');

function render(rows: Rows, date: Date, redisVersion: string): string {
  const cpu = os.cpus();
  const lines = [
    '# Benchmark: GET /api/verification',
    '',
    `- date: ${date.toISOString()}`,
    `- machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, ` +
      `${os.type()} ${os.release()}; Node ${process.version}; Redis ${redisVersion}`,
    `- mode: ${quick ? 'quick (BENCH_QUICK=1)' : 'full'}: ${settings.durationS} s per run after a ${settings.warmupS} s warm-up, ` +
      `${settings.sessions} sessions, ${settings.connections} connections; fan-in ${settings.fanInConnections} connections ` +
      `for ${settings.fanInS} s; memory with ${int(settings.memorySessions)} sessions`,
    '- every server is a child process; autocannon runs in the parent; all on this machine, Redis included',
    '',
    '| run | connections | req/s | p50 | p90 | p99 | max | non-2xx | server CPU | CPU per request | loader CPU | other CPU | body |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.load.map(
      ({ name, connections, result: r, bodyBytes }) =>
        `| ${name} | ${connections} | ${int(r.requestsPerS)} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${ms(r.max)} | ` +
        `${r.non2xx} | ${pct(r.serverCpu)} | ${perRequest(r)} | ${pct(r.loaderCpu)} | ${r.otherCpu.toFixed(2)} cores | ` +
        `${bodyBytes ? `${int(bodyBytes)} B` : '–'} |`,
    ),
    '',
    '| # | measure | result | goal | met |',
    '| --- | --- | --- | --- | --- |',
  ];
  if (rows.rated)
    lines.push(
      `| 1 | p99 at ${settings.rate} req/s, autocannon \`overallRate\` (ours) | ${ms(rows.rated.p99)} (p50 ${ms(rows.rated.p50)}) | < 10 ms | ${yes(rows.rated.p99 < 10)} |`,
    );
  if (rows.paced)
    lines.push(
      `| 1 | p99 at ${settings.rate} req/s, evenly paced (ours) | ${ms(rows.paced.p99)} (p50 ${ms(rows.paced.p50)}) | < 10 ms | ${yes(rows.paced.p99 < 10)} |`,
    );
  if (rows.ours && rows.floor) {
    const ratio = rows.ours.requestsPerS / rows.floor.requestsPerS;
    lines.push(
      `| 2 | ours / floor throughput | ${ratio.toFixed(2)} (${int(rows.ours.requestsPerS)} / ${int(rows.floor.requestsPerS)} req/s; ` +
        `server CPU per request ${perRequest(rows.ours)} vs ${perRequest(rows.floor)}) | ≥ 0.75 | ${yes(ratio >= 0.75)} |`,
    );
  }
  if (rows.manyOurs && rows.manyFloor) {
    const ratio = rows.manyOurs.requestsPerS / rows.manyFloor.requestsPerS;
    lines.push(
      `| 2 | ours / floor throughput, ${int(settings.memorySessions)} distinct sessions each polled once | ${ratio.toFixed(2)} (${int(rows.manyOurs.requestsPerS)} / ${int(rows.manyFloor.requestsPerS)} req/s; ` +
        `server CPU per request ${perRequest(rows.manyOurs)} vs ${perRequest(rows.manyFloor)}) | ≥ 0.75 | ${yes(ratio >= 0.75)} |`,
    );
  }
  if (rows.ours && rows.naive) {
    const ratio = rows.ours.requestsPerS / rows.naive.requestsPerS;
    lines.push(
      `| 3 | ours / naive throughput | ${ratio.toFixed(2)}× (${int(rows.ours.requestsPerS)} / ${int(rows.naive.requestsPerS)} req/s) | – | – |`,
    );
  }
  if (rows.fanIn) {
    const limit = settings.fanInS / 2 + 2;
    lines.push(
      `| 4 | fan-in: frontend polls served vs upstream report requests (${settings.fanInConnections} pollers, ${settings.fanInS} s, provider latency 50 ms) | ` +
        `${int(rows.fanIn.polls)} polls → ${rows.fanIn.upstream} upstream | ≤ ${limit} upstream | ${yes(rows.fanIn.upstream <= limit)} |`,
    );
  }
  if (rows.memory) {
    const { before, after, sessions } = rows.memory;
    const perSession = (a: number, b: number) => `${((b - a) / sessions / 1024).toFixed(2)} KiB per session`;
    lines.push(
      `| 5 | server RSS before → after ${int(sessions)} sessions polled once | ${mib(before.rss)} → ${mib(after.rss)} ` +
        `(${perSession(before.rss, after.rss)}) | – | – |`,
      `| 5 | the same after a full GC: RSS; V8 heap used | ${mib(before.rssAfterGc)} → ${mib(after.rssAfterGc)}; ` +
        `${mib(before.heapUsedAfterGc)} → ${mib(after.heapUsedAfterGc)} (${perSession(before.heapUsedAfterGc, after.heapUsedAfterGc)}) | – | – |`,
    );
  }
  if (rows.redisBytes) {
    const b = rows.redisBytes;
    const total = Object.values(b).reduce((a, v) => a + v, 0);
    lines.push(
      `| 5 | Redis memory per verification (MEMORY USAGE) | ${int(total)} B (session ${int(b.session ?? 0)}, meta ${int(b.meta ?? 0)}, ` +
        `tokens ${b.tokens ? int(b.tokens) : '0: deleted with the report stored (one-time access)'}, report ${int(b.report ?? 0)}) | – | – |`,
    );
  }
  if (rows.webhooks) {
    const w = rows.webhooks;
    const met = w.p50 < 200 && w.p99 < 1000 && w.lost === 0 && w.unverified === 0;
    lines.push(
      `| 6 | webhooks: ${w.verifications} verifications ready together (state changes within ${int(w.spreadMs)} ms), receiver on 127.0.0.1 verifying with standardwebhooks: state change → 2xx | ` +
        `p50 ${ms(w.p50)}, p99 ${ms(w.p99)}, max ${ms(w.max)}; ${w.delivered} delivered, ${w.lost} lost, ${w.duplicates} duplicates, ${w.unverified} unverified | p50 < 200 ms, p99 < 1 s, 0 lost | ${yes(met)} |`,
    );
  }
  if (rows.push) {
    const { plain, waiting, clientRequests: c, held: h, heldFloor: f } = rows.push;
    const heldText = (r: HeldResult) =>
      `${int(r.lastAnsweredMs)} ms (${int(r.afterLastWriteMs)} ms after the last write; server CPU ${int(r.wakeCpuMs)} ms, ` +
      `${int((r.wakeCpuMs * 1000) / r.count)} µs per answer); ${int(r.answered)} answered 200 ready, ${r.errors} errors`;
    const n = settings.pushVerifications;
    lines.push(
      `| 7 | stored \`ready\` → page has it, plain polling (Retry-After 2 s), ${n} verifications | p50 ${ms(plain.p50)}, p99 ${ms(plain.p99)}, max ${ms(plain.max)} (${int(plain.requests)} polls) | – | – |`,
      `| 7 | the same, waiting requests (\`Prefer: wait\`) | p50 ${ms(waiting.p50)}, p99 ${ms(waiting.p99)}, max ${ms(waiting.max)} (${int(waiting.requests)} requests) | p50 < 20 ms, p99 < 100 ms | ${yes(waiting.p50 < 20 && waiting.p99 < 100)} |`,
      `| 8 | requests per completed verification, \`public/client-snippet.js\` run as is (${c.verifications} verifications, widget approved after 1 s, report ready 2 s after the exchange) | ${c.perVerification.toFixed(2)} (max ${c.max}; 1 POST + GETs) | ≤ 4 | ${yes(c.perVerification <= 4)} |`,
      `| 9 | ${int(h.count)} held requests on one instance: server RSS before → holding; CPU while idle (${h.idleS} s) | ${mib(h.rssBefore)} → ${mib(h.rssHeld)} (${((h.rssHeld - h.rssBefore) / h.count / 1024).toFixed(2)} KiB per request); ${h.idleCpuPct.toFixed(1)} % of a core | – | – |`,
      `| 9 | all ${int(h.count)} change at once (another instance writes them, ${int(h.writesMs)} ms of writes): first write → last answer received | ${heldText(h)} | < 1 s, no errors | ${yes(h.lastAnsweredMs < 1000 && h.errors === 0)} |`,
      `| 9 | the same against the floor (\`bench/floor-server.ts\` holding the requests; ${int(f.writesMs)} ms of writes) | ${heldText(f)} | – | – |`,
      `| 9 | ours / floor, time to the last answer; server CPU per answer | ${(h.lastAnsweredMs / f.lastAnsweredMs).toFixed(2)}× the floor's time; ${(h.wakeCpuMs / f.wakeCpuMs).toFixed(2)}× its CPU | – | – |`,
    );
  }
  return lines.join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] FAILED: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
