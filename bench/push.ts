/**
 * Rows of `npm run bench` for held polls (`Prefer: wait`): how soon the page learns of `ready`
 * (plain polling vs waiting), how many requests the client snippet makes per verification, and
 * 10,000 held requests on one instance (memory, idle CPU, all woken at once).
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import pino from 'pino';
import { Agent, fetch as undiciFetch } from 'undici';
import type { RedisClientType } from 'redis';
import { connectRedis } from '../src/storage/redis-connection';
import { createRedisChangeNotifier } from '../src/storage/redis-change-notifier';
import { createRedisKeyValueStore } from '../src/storage/redis-key-value-store';
import type { StorageKeys } from '../src/storage/storage-keys';
import type { EnvelopeCipher } from '../src/storage/envelope-cipher';
import { createVerificationStore } from '../src/verification/verification-store';
import { cloneVerifications, sessionIdFromCookie, type VerificationRecords } from './clone-verifications';
import { approveInWidget, completeFlow, OUR_ROUTES, type CookieBrowser } from './flows';
import { REPO_ROOT, type Child } from './processes';
import { rawGet } from './raw-get';

export interface PushBenchDeps {
  startServer(name: string, env?: Record<string, string>, profile?: boolean): Promise<Child>;
  /** bench/floor-server.ts on the same data: row 9's baseline. */
  startFloor(): Promise<Child>;
  stopServer(child: Child): Promise<void>;
  sandboxConfig(options: Record<string, unknown>): Promise<void>;
  redis: RedisClientType;
  redisUrl: string;
  keys: StorageKeys;
  keyPrefix: string;
  cipher: EnvelopeCipher;
  template: VerificationRecords;
  sessionSecret: string;
  log(line: string): void;
  verifications: number;
  held: number;
  /** Only the 10,000-held row (BENCH_ONLY=held). */
  heldOnly?: boolean;
  /** Called just before the mass change and after its last answer (profiling the server in between). */
  onWake?: (server: Child, phase: 'start' | 'end') => Promise<void>;
}

export interface Latencies {
  p50: number;
  p99: number;
  max: number;
  requests: number;
}

export interface PushBenchResult {
  plain: Latencies;
  waiting: Latencies;
  clientRequests: { verifications: number; perVerification: number; max: number; gets: number };
  held: HeldResult;
  /** Row 9 against the floor. */
  heldFloor: HeldResult;
}

export interface HeldResult {
  count: number;
  rssBefore: number;
  rssHeld: number;
  idleCpuPct: number;
  idleS: number;
  writesMs: number;
  lastAnsweredMs: number;
  /** From the last write's completion to the last answer. */
  afterLastWriteMs: number;
  /** The server's CPU from the first write to the last answer (all of it is the wake-up work). */
  wakeCpuMs: number;
  answered: number;
  errors: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;

export async function benchPush(deps: PushBenchDeps): Promise<PushBenchResult> {
  const server = await deps.startServer('ours (push)');
  try {
    const nothing = { p50: NaN, p99: NaN, max: NaN, requests: 0 };
    const plain = deps.heldOnly ? nothing : await readyLatency(deps, server, false);
    deps.log(`push: plain polling ready→page p50 ${plain.p50.toFixed(1)} ms, p99 ${plain.p99.toFixed(1)} ms`);
    const waiting = deps.heldOnly ? nothing : await readyLatency(deps, server, true);
    deps.log(`push: waiting ready→page p50 ${waiting.p50.toFixed(1)} ms, p99 ${waiting.p99.toFixed(1)} ms`);
    const clientRequests = deps.heldOnly
      ? { verifications: 0, perVerification: NaN, max: NaN, gets: 0 }
      : await snippetRequests(deps, server, 20);
    deps.log(`push: client snippet ${clientRequests.perVerification.toFixed(2)} requests per verification`);
    await deps.stopServer(server);
    const fresh = await deps.startServer('ours (10k held)', undefined, true);
    try {
      const held = await manyHeld(deps, fresh);
      deps.log(
        `push: ${held.count} held: last answered ${held.lastAnsweredMs.toFixed(0)} ms after the first write`,
      );
      await deps.stopServer(fresh);
      // The same row against the floor (bench/floor-server.ts holding requests): the baseline.
      const floor = await deps.startFloor();
      try {
        const heldFloor = await manyHeld(deps, floor);
        deps.log(
          `push: floor, ${heldFloor.count} held: last answered ${heldFloor.lastAnsweredMs.toFixed(0)} ms after the first write`,
        );
        return { plain, waiting, clientRequests, held, heldFloor };
      } finally {
        await deps.stopServer(floor);
      }
    } finally {
      await deps.stopServer(fresh);
    }
  } finally {
    await deps.stopServer(server).catch(() => undefined);
    await deps.sandboxConfig({ reportDelayMs: 0 });
  }
}

/** `count` verifications in `processing`; their reports released at once; each page learns of `ready` by plain polling or waiting. */
async function readyLatency(deps: PushBenchDeps, server: Child, wait: boolean): Promise<Latencies> {
  await deps.sandboxConfig({ reportDelayMs: 3_600_000 });
  deps.log(
    `push: driving ${deps.verifications} flows to processing (${wait ? 'waiting' : 'plain polling'})…`,
  );
  const browsers: CookieBrowser[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < deps.verifications) {
        next++;
        browsers.push(await completeFlow(server.url, OUR_ROUTES));
      }
    }),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let requests = 0;
  let stop = false;
  const gotReady = new Map<string, number>();
  const url = `${server.url}/api/verification`;
  // Each page polls as the client snippet does: with its ETag; waiting adds Prefer: wait.
  const page = async (cookie: string) => {
    let etag: string | undefined;
    await sleep(Math.random() * 2000); // pages do not poll in step
    while (!stop) {
      const headers: Record<string, string> = { cookie };
      if (etag) headers['if-none-match'] = etag;
      if (wait && etag) headers.prefer = 'wait=25';
      requests++;
      const res = await get(url, headers, agent);
      if (res.status === 200) {
        etag = res.headers.etag as string;
        if ((JSON.parse(res.body) as { status: string }).status === 'ready') {
          gotReady.set(cookie, Date.now());
          return;
        }
        if (wait) continue;
      } else if (res.status !== 304) throw new Error(`poll answered ${res.status}`);
      if (wait && res.headers['preference-applied']) continue;
      await sleep(Number(res.headers['retry-after'] ?? 2) * 1000);
    }
  };
  const pages = browsers.map((b) => page(b.cookie as string));
  await sleep(3000);
  await deps.sandboxConfig({ reportDelayMs: 0 });
  const done = Promise.all(pages);
  const timeout = sleep(60_000).then(() => (stop = true));
  await Promise.race([done, timeout]);
  stop = true;
  agent.destroy();
  const latencies: number[] = [];
  for (const browser of browsers) {
    const cookie = browser.cookie as string;
    const session = JSON.parse(
      (await deps.redis.get(deps.keys.sessionPrefix + sessionIdFromCookie(cookie))) ?? '{}',
    ) as {
      verificationId: string;
    };
    const meta = JSON.parse((await deps.redis.get(deps.keys.meta(session.verificationId))) ?? '{}') as {
      status: string;
      updatedAt: number;
    };
    const got = gotReady.get(cookie);
    if (meta.status !== 'ready' || got === undefined)
      throw new Error(`a page never saw ready (${meta.status})`);
    latencies.push(got - meta.updatedAt);
  }
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    requests,
  };
}

/** public/client-snippet.js, run as it is in a VM with a browser's parts stubbed, counting its requests. */
export async function snippetRequests(deps: PushBenchDeps, server: Child, count: number) {
  await deps.sandboxConfig({ reportDelayMs: 2000 });
  const source = readFileSync(path.join(REPO_ROOT, 'public', 'client-snippet.js'), 'utf8');
  const counts: number[] = [];
  let gets = 0;
  // Idle connections closed here before the server's keep-alive timeout (5 s) could close them mid-request.
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });
  const browserFetch = (url: string, init: Parameters<typeof undiciFetch>[1] = {}) =>
    undiciFetch(url, { ...init, dispatcher });
  await Promise.all(
    Array.from({ length: count }, async () => {
      let cookie = '';
      let requests = 0;
      const remember = (res: Awaited<ReturnType<typeof undiciFetch>>) => {
        const set = res.headers.getSetCookie().find((c) => c.startsWith('bff.sid='));
        if (set) cookie = set.split(';')[0] as string;
      };
      const popup = {
        closed: false,
        close() {
          this.closed = true;
        },
        location: {
          // The person approves in the widget after a second; the browser follows the callback.
          replace(widget: string) {
            void (async () => {
              await sleep(1000);
              const callback = new URL(await approveInWidget(widget));
              remember(
                await browserFetch(`${server.url}${callback.pathname}${callback.search}`, {
                  headers: { cookie },
                  redirect: 'manual',
                }),
              );
            })().catch((err: unknown) =>
              deps.log(
                `push: a widget callback failed: ${(err as Error).message} ${String((err as { cause?: unknown }).cause)}`,
              ),
            );
          },
        },
      };
      const window: Record<string, unknown> = { open: () => popup };
      const context = vm.createContext({
        window,
        setTimeout,
        clearTimeout,
        setInterval,
        clearInterval,
        AbortController,
        URL,
        fetch: async (p: string, init: { method?: string; headers?: Record<string, string> }) => {
          requests++;
          if ((init.method ?? 'GET') === 'GET') gets++;
          const res = await browserFetch(server.url + p, {
            ...(init as object),
            headers: { ...init.headers, cookie },
          });
          remember(res);
          if (process.env.BENCH_PUSH_DEBUG)
            deps.log(`${init.method ?? 'GET'} ${res.status} ${cookie.slice(0, 20)}`);
          return res;
        },
      });
      vm.runInContext(source, context);
      const verifyIncome = window.verifyIncome as () => Promise<{ status: string }>;
      const result = await verifyIncome();
      if (result.status !== 'ready') throw new Error(`the snippet ended with ${result.status}`);
      counts.push(requests);
    }),
  );
  await dispatcher.close();
  return {
    verifications: count,
    perVerification: counts.reduce((a, b) => a + b, 0) / counts.length,
    max: Math.max(...counts),
    gets,
  };
}

/** `held` verifications in `processing`, one held poll each; then another instance makes all of them ready. */
export async function manyHeld(deps: PushBenchDeps, server: Child): Promise<HeldResult> {
  const count = deps.held;
  deps.log(`push: writing ${count} verifications in processing…`);
  const cookies = await cloneVerifications(
    deps.redis,
    deps.keys,
    deps.cipher,
    deps.template,
    count,
    OUR_ROUTES.cookieName,
    deps.sessionSecret,
  );
  const readyMeta = JSON.parse(deps.template.meta) as Record<string, unknown>;
  const report = deps.cipher.open(deps.template.report, deps.template.keyNames.report);
  const processing = JSON.stringify({ ...readyMeta, status: 'processing', reportVersion: undefined });
  const ids: string[] = [];
  for (let i = 0; i < cookies.length; i += 500) {
    const batch = cookies.slice(i, i + 500);
    const sessions = await deps.redis.mGet(
      batch.map((c) => deps.keys.sessionPrefix + sessionIdFromCookie(c)),
    );
    for (const s of sessions) ids.push((JSON.parse(s ?? '{}') as { verificationId: string }).verificationId);
  }
  for (let i = 0; i < ids.length; i += 500)
    await Promise.all(
      ids
        .slice(i, i + 500)
        .map((id) =>
          deps.redis.set(deps.keys.meta(id), processing, { expiration: { type: 'PX', value: 3_600_000 } }),
        ),
    );

  const url = `${server.url}/api/verification`;
  const first = await get(url, { cookie: cookies[0] as string });
  const etag = first.headers.etag as string;
  await sleep(500);
  const rssBefore = server.rssBytes();
  let answered = 0;
  let errors = 0;
  let lastAt = 0;
  deps.log(`push: holding ${count} requests…`);
  const held: Promise<void>[] = [];
  const sockets: Array<() => void> = [];
  const port = Number(new URL(server.url).port);
  for (let i = 0; i < count; i += 250) {
    for (const cookie of cookies.slice(i, i + 250)) {
      const request = rawGet(
        port,
        '/api/verification',
        { Cookie: cookie, Prefer: 'wait=55', 'If-None-Match': etag },
        120_000,
      );
      sockets.push(request.close);
      held.push(
        request.reply.then(
          (res) => {
            if (res.status === 200 && res.body.includes('"ready"')) answered++;
            else {
              errors++;
              if (errors <= 3)
                deps.log(`push: a held request answered ${res.status} ${res.body.slice(0, 120)}`);
            }
            lastAt = Date.now();
          },
          (err: unknown) => {
            errors++;
            if (errors <= 3) deps.log(`push: a held request failed: ${(err as Error).message}`);
          },
        ),
      );
    }
    await sleep(20);
  }
  await sleep(3000);
  const idleS = 5;
  const cpuStart = server.cpuMs();
  await sleep(idleS * 1000);
  const idleCpuPct = ((server.cpuMs() - cpuStart) / (idleS * 1000)) * 100;
  const rssHeld = server.rssBytes();

  // Another instance: its own connection, store and notifier, as a background job would write.
  const logger = pino({ level: 'warn' });
  const conn = await connectRedis(
    { url: deps.redisUrl, clusterNodes: undefined, commandTimeoutMs: 5000 },
    logger,
  );
  const changes = await createRedisChangeNotifier({
    client: conn.client,
    cluster: false,
    keyPrefix: deps.keyPrefix,
    logger,
    commandTimeoutMs: 5000,
  });
  const store = createVerificationStore({
    kv: createRedisKeyValueStore(conn.commands),
    keys: deps.keys,
    retentionMs: 3_600_000,
    changes,
  });
  deps.log(`push: all ${count} become ready…`);
  await deps.onWake?.(server, 'start');
  const previous = { meta: JSON.parse(processing) as never, version: processing };
  // Sealed beforehand: each report job seals its own report on its own instance; what this row
  // measures is the state changes reaching the held requests, not one process encrypting 10,000 reports.
  const sealed = ids.map((id) => deps.cipher.seal(report, deps.keys.report(id)));
  const wakeCpuStart = server.cpuMs();
  const t0 = Date.now();
  // As the report job writes it: the state and the sealed report together.
  await Promise.all(
    ids.map((id, i) =>
      store.transition(id, previous, readyMeta as never, [
        { key: deps.keys.report(id), value: sealed[i] as string, ttlMs: 3_600_000 },
      ]),
    ),
  );
  const writesMs = Date.now() - t0;
  await Promise.race([Promise.all(held), sleep(60_000)]);
  const wakeCpuMs = server.cpuMs() - wakeCpuStart;
  await deps.onWake?.(server, 'end');
  for (const close of sockets) close();
  await changes.close();
  await conn.close();
  return {
    count,
    rssBefore,
    rssHeld,
    idleCpuPct,
    idleS,
    writesMs,
    lastAnsweredMs: lastAt - t0,
    afterLastWriteMs: lastAt - t0 - writesMs,
    wakeCpuMs,
    answered,
    errors: errors + (count - answered - errors),
  };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(
  url: string,
  headers: Record<string, string>,
  agent?: http.Agent,
  timeoutMs = 60_000,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: agent ?? false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
