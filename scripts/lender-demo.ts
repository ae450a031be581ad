import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config';
import { startDemoReceiver, type DemoReceiver } from '../src/integrator/demo-webhook-receiver';
import { createLogger } from '../src/logger';
import { createHttpServer, createRuntime, stopHttpServer } from '../src/server';

/**
 * `npm run lender:demo`: the lender's side from its backend's point of view. It creates a ticketed
 * verification through the integrator API, prints the start link for the applicant, then follows the
 * verification until the report is there and reads it server to server.
 *
 * Without LENDER_DEMO_URL it runs its own server (embedded sandbox, in-process store, a fresh API key).
 * With LENDER_DEMO_URL and INTEGRATOR_API_KEY it talks to a server you run. `--auto` plays the
 * applicant too (opens the link and approves in the sandbox widget), for a run without a browser.
 *
 * Webhooks: with its own server the demo also runs a receiver on 127.0.0.1 (verifying each delivery
 * with the standardwebhooks package) and prints what arrives. With LENDER_DEMO_URL it does so when
 * WEBHOOK_SECRET is set (the server's), listening on LENDER_DEMO_RECEIVER_PORT (default 4100):
 * start that server with WEBHOOK_URL=http://127.0.0.1:4100/webhooks.
 */
export interface LenderDemoOptions {
  auto: boolean;
  print(line: string): void;
  /** How long to wait for the applicant, in ms. */
  timeoutMs: number;
  env: Record<string, string | undefined>;
}

interface Target {
  url: string;
  key: string;
  close(): Promise<void>;
}

async function ownServer(env: Record<string, string | undefined>): Promise<Target> {
  const key = randomBytes(24).toString('hex');
  let app: Parameters<typeof createHttpServer>[0] = (_req, res) => res.end();
  const server = createHttpServer((req, res) => app(req, res));
  await new Promise<void>((resolve) => server.listen(Number(env.PORT ?? 0), '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    NODE_ENV: 'development',
    SANDBOX_PORT: '0',
    LOG_LEVEL: 'warn',
    ...env,
    PUBLIC_BASE_URL: url,
    INTEGRATOR_API_KEYS: key,
  });
  const runtime = await createRuntime(config, { logger: createLogger('warn') });
  app = runtime.app;
  return {
    url,
    key,
    async close() {
      await stopHttpServer(server, 1000);
      await runtime.close();
    },
  };
}

/** What the applicant's browser does in the sandbox: follow the link, approve, come back. */
async function applicantApproves(startUrl: string): Promise<void> {
  let cookie = '';
  const go = async (url: string) => {
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    cookie =
      res.headers
        .getSetCookie()
        .find((c) => c.includes('bff.sid='))
        ?.split(';')[0] ?? cookie;
    return res;
  };
  const widget = new URL((await go(startUrl)).headers.get('location') as string);
  const done = await fetch(new URL('/widget/complete', widget.origin), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: widget.searchParams.get('token') ?? '', decision: 'approve' }),
    redirect: 'manual',
  });
  const callback = new URL(done.headers.get('location') as string);
  await go(new URL(callback.pathname + callback.search, startUrl).toString());
}

export async function runLenderDemo(options: LenderDemoOptions): Promise<'ready' | string> {
  const { print } = options;
  const external = options.env.LENDER_DEMO_URL;
  const secret = external ? options.env.WEBHOOK_SECRET : `whsec_${randomBytes(32).toString('base64')}`;
  const receiver: DemoReceiver | undefined = secret
    ? await startDemoReceiver({
        secrets: [secret],
        ...(external ? { port: Number(options.env.LENDER_DEMO_RECEIVER_PORT ?? 4100) } : {}),
        onEvent: (event) =>
          print(
            `webhook ← ${event.type} ${event.id} (signature verified with standardwebhooks): ` +
              `verification ${String(event.data.id)}, reference ${String(event.data.reference)}`,
          ),
      })
    : undefined;
  if (receiver && external) print(`webhook receiver on ${receiver.url} (the server's WEBHOOK_URL)`);
  const target: Target = external
    ? {
        url: external.replace(/\/+$/, ''),
        key: options.env.INTEGRATOR_API_KEY ?? '',
        close: async () => undefined,
      }
    : await ownServer({
        ...options.env,
        ...(receiver && secret ? { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret } : {}),
      });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${target.url}/integrator/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${target.key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  try {
    const reference = `demo-${Date.now()}`;
    print(`lender → POST /integrator/v1/verifications {"reference":"${reference}"}`);
    const made = await api('POST', '/verifications', { reference });
    if (made.status !== 201) throw new Error(`create answered ${made.status}: ${JSON.stringify(made.body)}`);
    const id = made.body.id as string;
    print(
      `server → 201 id=${id} status=${String(made.body.status)} expires_at=${String(made.body.expires_at)}`,
    );
    print('');
    print('Send this link to the applicant (it works once, from any site, e-mail or SMS):');
    print(`  ${String(made.body.start_url)}`);
    print('');
    if (options.auto) {
      print('applicant → opens the link and approves in the sandbox widget (--auto)');
      await applicantApproves(made.body.start_url as string);
    } else {
      print('Open it in a browser and click "Approve" in the sandbox widget. Waiting…');
    }

    let last = '';
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const read = await api('GET', `/verifications/${id}`);
      const status = String(read.body.status);
      if (status !== last) print(`lender → GET /integrator/v1/verifications/${id}: status ${status}`);
      last = status;
      if (!['created', 'awaiting_user', 'processing'].includes(status)) {
        if (status !== 'ready') {
          print(`The verification ended without a report: ${String(read.body.error)}`);
          return status;
        }
        break;
      }
      if (Date.now() > deadline) throw new Error(`still ${status} after ${options.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const report = await api('GET', `/verifications/${id}/report`);
    const income = (report.body.income as { summary?: Record<string, number> } | undefined)?.summary;
    const disposable = report.body.disposable_income as Record<string, number> | undefined;
    print(`lender → GET /integrator/v1/verifications/${id}/report: ${report.status}`);
    print(
      `  income: ${income?.average ?? '?'} a month on average over ${String(report.body.period ?? '?')} months; ` +
        `disposable: ${disposable?.average ?? '?'} a month (ratio ${disposable?.ratio ?? '?'})`,
    );
    if (receiver) {
      // The webhook usually arrives before the read above sees `ready`; give it a moment otherwise.
      const until = Date.now() + 10_000;
      while (!receiver.deliveries.some((d) => d.first) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 100));
      if (!receiver.deliveries.some((d) => d.first)) print('(no webhook arrived within 10 s)');
    }
    return 'ready';
  } finally {
    await target.close();
    await receiver?.close();
  }
}

if (require.main === module) {
  runLenderDemo({
    auto: process.argv.includes('--auto'),
    print: (line) => process.stdout.write(`${line}\n`),
    timeoutMs: 15 * 60_000,
    env: process.env,
  }).then(
    (outcome) => process.exit(outcome === 'ready' ? 0 : 1),
    (err: unknown) => {
      process.stderr.write(`lender demo failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
