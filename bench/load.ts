import autocannon from 'autocannon';
import { Pool } from 'undici';
import { cpuMsOf, machineBusyMs, type Child } from './processes';

export interface LoadOptions {
  url: string;
  /** Cookie headers (name=value); requests take them in turn. */
  cookies: string[];
  connections: number;
  durationS?: number;
  /** A fixed number of requests instead of a duration. */
  amount?: number;
  /** Requests per second over all connections. */
  overallRate?: number;
  /** The server process, to report how much CPU it used during the run. */
  server?: Child;
  /** Every other process of the benchmark (sandbox, Redis): CPU used by none of these is "other". */
  benchPids?: number[];
}

export interface LoadResult {
  requests: number;
  requestsPerS: number;
  /** Latency percentiles in ms, from every response's own timing (sub-millisecond). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** CPU used by the server child, as a share of one core. */
  serverCpu: number | undefined;
  /** CPU used by this (load generator) process, as a share of one core. */
  loaderCpu: number;
  /** CPU used by processes outside the benchmark during the run, in cores: noise from a shared machine. */
  otherCpu: number;
}

/**
 * One autocannon run against `GET <url>`. Latencies are collected from autocannon's per-response
 * events rather than its histogram: that one keeps whole milliseconds, and under `overallRate` it
 * "corrects" for coordinated omission with an interval of 1 ms, which invents samples.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.cookies.length === 0) throw new Error('no cookies to load with');
  let turn = 0;
  const latencies: number[] = [];
  const startedCpu = process.cpuUsage();
  const serverCpuStart = options.server?.cpuMs();
  const others = startOtherCpu([
    ...(options.server ? [options.server.pid] : []),
    ...(options.benchPids ?? []),
  ]);
  const started = performance.now();
  let lastResponseAt = started;

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        ...(options.amount !== undefined
          ? { amount: options.amount }
          : { duration: options.durationS ?? 10 }),
        ...(options.overallRate !== undefined
          ? { overallRate: options.overallRate, ignoreCoordinatedOmission: true }
          : {}),
        timeout: 10,
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => {
              const cookie = options.cookies[turn++ % options.cookies.length] as string;
              return { ...req, headers: { ...req.headers, cookie } };
            },
          },
        ],
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err as Error) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
      lastResponseAt = performance.now();
    });
  });

  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(startedCpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = stat.count ?? 0;
  const requests = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    requests,
    // Not autocannon's `duration`: it is taken at its next one-second tick, so a run of a fixed
    // `amount` that ends at 1.01 s and one that ends at 1.3 s both read 2 s.
    requestsPerS: requests / ((lastResponseAt - started) / 1000),
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    serverCpu:
      options.server && serverCpuStart !== undefined
        ? (options.server.cpuMs() - serverCpuStart) / wallMs
        : undefined,
    loaderCpu: (cpu.user + cpu.system) / 1000 / wallMs,
    otherCpu: others(),
  };
}

const safeCpuMs = (pid: number) => {
  try {
    return cpuMsOf(pid);
  } catch {
    return 0;
  }
};

/** Starts measuring the CPU the machine spends outside `pids` and this process; the function returns it in cores. */
export function startOtherCpu(pids: number[]): () => number {
  const started = performance.now();
  const machine = machineBusyMs();
  const own = pids.reduce((a, pid) => a + safeCpuMs(pid), 0);
  const self = process.cpuUsage();
  return () => {
    const wallMs = performance.now() - started;
    const selfUsed = process.cpuUsage(self);
    const ownUsed =
      pids.reduce((a, pid) => a + safeCpuMs(pid), 0) - own + (selfUsed.user + selfUsed.system) / 1000;
    return Math.max(0, machineBusyMs() - machine - ownUsed) / wallMs;
  };
}

/**
 * Waits (at most `maxWaitMs`) for a second in which processes outside the benchmark use less than
 * `threshold` cores; returns the last second's figure. The machine may be shared with other work.
 */
export async function waitForQuiet(pids: number[], maxWaitMs: number, threshold = 0.25): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  for (let attempt = 0; ; attempt++) {
    const others = startOtherCpu(pids);
    await new Promise((r) => setTimeout(r, 1000));
    const used = others();
    if (used < threshold || Date.now() >= deadline || attempt > 600) return used;
  }
}

/**
 * An open-loop run at an even pace: request i is sent at start + i / rate, whether or not earlier
 * ones have been answered (autocannon's `overallRate` instead releases every connection's budget
 * for the second at once, so its load arrives as one burst per second). Latency runs from the
 * moment a request is handed to the connection pool, so waiting for a free connection counts.
 */
export async function runPaced(options: {
  url: string;
  cookies: string[];
  rate: number;
  durationS: number;
  connections: number;
  server?: Child;
  benchPids?: number[];
}): Promise<LoadResult> {
  const url = new URL(options.url);
  const pool = new Pool(url.origin, { connections: options.connections, pipelining: 1 });
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  const startedCpu = process.cpuUsage();
  const serverCpuStart = options.server?.cpuMs();
  const others = startOtherCpu([
    ...(options.server ? [options.server.pid] : []),
    ...(options.benchPids ?? []),
  ]);
  const total = Math.round(options.rate * options.durationS);
  const intervalMs = 1000 / options.rate;
  const started = performance.now();
  const pending: Promise<void>[] = [];

  const send = (i: number) => {
    const sent = performance.now();
    const cookie = options.cookies[i % options.cookies.length] as string;
    return pool
      .request({
        path: url.pathname,
        method: 'GET',
        headers: { cookie },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      })
      .then(async (res) => {
        await res.body.dump();
        latencies.push(performance.now() - sent);
        statusCodes[res.statusCode] = (statusCodes[res.statusCode] ?? 0) + 1;
      })
      .catch((err: { code?: string }) => {
        if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') timeouts++;
        errors++;
      });
  };

  let next = 0;
  while (next < total) {
    const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
    for (; next < due; next++) pending.push(send(next));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const wallMs = performance.now() - started;
  await pool.close();

  const cpu = process.cpuUsage(startedCpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const ok = Object.entries(statusCodes)
    .filter(([code]) => code.startsWith('2'))
    .reduce((a, [, n]) => a + n, 0);
  return {
    requests: latencies.length,
    requestsPerS: latencies.length / (wallMs / 1000),
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    non2xx: latencies.length - ok,
    errors,
    timeouts,
    statusCodes,
    serverCpu:
      options.server && serverCpuStart !== undefined
        ? (options.server.cpuMs() - serverCpuStart) / wallMs
        : undefined,
    loaderCpu: (cpu.user + cpu.system) / 1000 / wallMs,
    otherCpu: others(),
  };
}

/** Fails loudly: a benchmark of error answers measures nothing. */
export function assertAllOk(name: string, result: LoadResult): void {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || result.requests === 0) {
    throw new Error(
      `${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts ` +
        `of ${result.requests} requests (status codes ${JSON.stringify(result.statusCodes)})`,
    );
  }
}
