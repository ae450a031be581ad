/**
 * `npm run bench:readiness` (also the last part of `npm run bench`): report readiness driven by the
 * background job, with nobody polling. N verifications are created through the integrator API and
 * approved at once; the provider makes each report ready a fixed delay after its code exchange.
 * Measures the time from the provider's readiness to the report being readable through the API
 * (the verification's `updated_at` when it turned ready), upstream report requests per
 * verification, the job queue over time (from /metrics), and the server's CPU.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type RedisClientType } from 'redis';
import { approveInWidget, CookieBrowser } from './flows';
import { freePort, REPO_ROOT, startChild, startSandboxChild, type Child } from './processes';

const COUNT = Number(process.env.BENCH_READINESS_COUNT ?? 200);
const INTERVAL_MS = Number(process.env.BENCH_READINESS_INTERVAL_MS ?? 2000);
const PROVIDER_DELAY_MS = Number(process.env.BENCH_READINESS_DELAY_MS ?? 5000);
const REDIS_URL = 'redis://127.0.0.1:6379';
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results-readiness.md');
const log = (line: string) => process.stderr.write(`[bench:readiness] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};

async function main(): Promise<void> {
  const runId = randomBytes(6).toString('hex');
  const prefix = `bench:${runId}:`;
  const key = randomBytes(24).toString('hex');
  const clientSecret = `bench-${randomBytes(12).toString('hex')}`;
  const children: Child[] = [];
  const redis = createClient({ url: REDIS_URL }) as RedisClientType;
  await redis.connect();
  try {
    const sandbox = await startSandboxChild(
      { clientId: 'bench-client', clientSecret },
      { SANDBOX_REPORT_DELAY_MS: String(PROVIDER_DELAY_MS) },
    );
    children.push(sandbox);
    const port = await freePort();
    const server = await startChild({
      name: 'server',
      file: 'src/server.ts',
      port,
      readyPath: '/readyz',
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        FINX_API_URL: sandbox.url,
        FINX_CLIENT_ID: 'bench-client',
        FINX_CLIENT_SECRET: clientSecret,
        WIDGET_ALLOWED_ORIGINS: sandbox.url,
        REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        SESSION_SECRET: randomBytes(32).toString('base64url'),
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        INTEGRATOR_API_KEYS: key,
        REPORT_POLL_INTERVAL_MS: String(INTERVAL_MS),
        JOBS_CONCURRENCY: '50',
        RATE_LIMIT_STARTS_PER_SESSION_PER_HOUR: '100000000',
        RATE_LIMIT_STARTS_PER_IP_PER_HOUR: '100000000',
        RATE_LIMIT_CALLBACKS_PER_IP_PER_MINUTE: '100000000',
        RATE_LIMIT_INTEGRATOR_PER_KEY_PER_MINUTE: '100000000',
        LOG_LEVEL: 'warn',
      },
    });
    children.push(server);
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${server.url}/integrator/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await res.json()) as Record<string, string>;
    };

    log(
      `${COUNT} verifications, report ready ${PROVIDER_DELAY_MS} ms after the exchange, poll interval ${INTERVAL_MS} ms`,
    );
    const made = await Promise.all(
      Array.from({ length: COUNT }, (_, i) => api('POST', '/verifications', { reference: `bench-${i}` })),
    );
    await fetch(`${sandbox.url}/__sandbox/reset-stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const cpuBefore = server.cpuMs();
    const wallBefore = Date.now();
    // The provider's readiness: the code exchange (inside the callback) plus its fixed delay.
    const providerReadyAt = new Map<string, number>();
    await Promise.all(
      made.map(async (m) => {
        const browser = new CookieBrowser('bff.sid');
        const start = await browser.get(m.start_url as string);
        const callback = new URL(await approveInWidget(start.headers.get('location') as string));
        const sent = Date.now();
        const back = await browser.get(`${server.url}${callback.pathname}${callback.search}`);
        if (back.headers.get('location') !== '/?verification=completed') throw new Error('callback failed');
        // The exchange happened between sending the callback and its answer: take the middle.
        providerReadyAt.set(m.id as string, (sent + Date.now()) / 2 + PROVIDER_DELAY_MS);
      }),
    );

    const depth: string[] = [];
    const readableAt = new Map<string, number>();
    const deadline = Date.now() + PROVIDER_DELAY_MS + 120_000;
    while (readableAt.size < COUNT && Date.now() < deadline) {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const sample = (state: string) =>
        new RegExp(`^bff_job_queue_depth\\{state="${state}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? '?';
      depth.push(
        `${((Date.now() - wallBefore) / 1000).toFixed(0)} s: ${sample('delayed')} delayed, ${sample('waiting')} waiting, ${sample('active')} active`,
      );
      for (const m of made) {
        if (readableAt.has(m.id as string)) continue;
        const v = await api('GET', `/verifications/${m.id}`);
        if (v.status === 'ready') readableAt.set(m.id as string, Date.parse(v.updated_at as string));
        else if (v.status !== 'processing') throw new Error(`${m.id} ended ${v.status} (${v.error})`);
      }
      await sleep(1000);
    }
    if (readableAt.size < COUNT) throw new Error(`only ${readableAt.size} of ${COUNT} ready`);
    const cpuMs = server.cpuMs() - cpuBefore;
    const wallMs = Date.now() - wallBefore;
    const latencies = made.map(
      (m) => (readableAt.get(m.id as string) as number) - (providerReadyAt.get(m.id as string) as number),
    );
    const stats = (await (await fetch(`${sandbox.url}/__sandbox/stats`)).json()) as {
      reportFetches: { total: number };
    };
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const table = [
      `## Report readiness by background job (${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version})`,
      '',
      `${COUNT} verifications in flight at once, no browser polling; the provider makes each report ready ${PROVIDER_DELAY_MS} ms after its code exchange; \`REPORT_POLL_INTERVAL_MS\`=${INTERVAL_MS}.`,
      '',
      '| measure | result | goal | met |',
      '| --- | --- | --- | --- |',
      `| provider ready → readable through the API, p50 | ${p50.toFixed(0)} ms | < ${INTERVAL_MS} ms (the poll interval) | ${p50 < INTERVAL_MS ? 'yes' : 'no'} |`,
      `| … p99 | ${p99.toFixed(0)} ms | < ${2 * INTERVAL_MS} ms | ${p99 < 2 * INTERVAL_MS ? 'yes' : 'no'} |`,
      `| … min / max | ${Math.min(...latencies).toFixed(0)} / ${Math.max(...latencies).toFixed(0)} ms | – | – |`,
      `| upstream report requests per verification | ${(stats.reportFetches.total / COUNT).toFixed(2)} (${stats.reportFetches.total} in all) | – | – |`,
      `| server CPU from the first callback to the last report | ${(cpuMs / 1000).toFixed(2)} s over ${(wallMs / 1000).toFixed(1)} s (${((cpuMs / wallMs) * 100).toFixed(1)} % of a core; ${(cpuMs / COUNT).toFixed(1)} ms per verification, callbacks and lender reads included) | – | – |`,
      '',
      `Job queue over time (from \`/metrics\`, once a second): ${depth.join('; ')}.`,
    ].join('\n');
    process.stdout.write(`${table}\n`);
    writeFileSync(RESULTS_FILE, `${table}\n`);
    log(`written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    for (const match of [`${prefix}*`, `{${prefix}jobs}*`])
      for await (const batch of redis.scanIterator({ MATCH: match, COUNT: 500 }))
        for (const k of batch) await redis.del(k);
    await redis.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:readiness] FAILED: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
