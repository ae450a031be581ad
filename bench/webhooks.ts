import { startDemoReceiver } from '../src/integrator/demo-webhook-receiver';
import { completeFlow, OUR_ROUTES } from './flows';
import type { Child } from './processes';

export interface WebhookBenchResult {
  verifications: number;
  delivered: number;
  lost: number;
  /** Successful deliveries beyond the first of a webhook id (at-least-once shows here). */
  duplicates: number;
  /** Deliveries the receiver could not verify (must be 0). */
  unverified: number;
  p50: number;
  p99: number;
  max: number;
  /** From the first state change to the last: how "together" the verifications became ready. */
  spreadMs: number;
}

export interface WebhookBenchDeps {
  /** Starts our server as a child with these extra environment variables. */
  startServer(env: Record<string, string>): Promise<Child>;
  stopServer(child: Child): Promise<void>;
  /** Changes the sandbox's options (POST /__sandbox/config). */
  sandboxConfig(options: Record<string, unknown>): Promise<void>;
  log(line: string): void;
  count: number;
  timeoutMs?: number;
}

const SECRET = 'whsec_' + Buffer.alloc(32, 42).toString('base64');

/**
 * `count` verifications wait in `processing` (the sandbox holds their reports back), then the
 * sandbox lets every report go at once: each verification job finds its report on its next fetch
 * and the verification changes state; the webhook goes to a receiver on 127.0.0.1 that verifies
 * it with the standardwebhooks package. Latency: the event's timestamp (the state change, written
 * by the server) to the moment the receiver has verified the delivery and answers 2xx.
 */
export async function benchWebhooks(deps: WebhookBenchDeps): Promise<WebhookBenchResult> {
  const receiver = await startDemoReceiver({ secrets: [SECRET] });
  let server: Child | undefined;
  try {
    await deps.sandboxConfig({ reportDelayMs: 3_600_000 });
    server = await deps.startServer({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET });
    deps.log(`webhooks: driving ${deps.count} flows to processing…`);
    const base = server.url;
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < deps.count) {
          next++;
          await completeFlow(base, OUR_ROUTES);
        }
      }),
    );
    deps.log('webhooks: releasing every report at once…');
    await deps.sandboxConfig({ reportDelayMs: 0 });
    const deadline = Date.now() + (deps.timeoutMs ?? 60_000);
    const ok = () => receiver.deliveries.filter((d) => d.status >= 200 && d.status < 300);
    while (new Set(ok().map((d) => d.webhookId)).size < deps.count && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    // Late duplicates would show up now.
    await new Promise((r) => setTimeout(r, 2000));

    const firsts = ok().filter((d) => d.first);
    const changedAt = firsts.map((d) => Date.parse((JSON.parse(d.body) as { timestamp: string }).timestamp));
    const latencies = firsts.map((d, i) => d.receivedAt - (changedAt[i] as number)).sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? NaN;
    return {
      verifications: deps.count,
      delivered: firsts.length,
      lost: deps.count - firsts.length,
      duplicates: ok().length - firsts.length,
      unverified: receiver.deliveries.filter((d) => d.verifiedWith.length === 0).length,
      p50: at(0.5),
      p99: at(0.99),
      max: latencies[latencies.length - 1] ?? NaN,
      spreadMs: changedAt.length ? Math.max(...changedAt) - Math.min(...changedAt) : 0,
    };
  } finally {
    if (server) await deps.stopServer(server);
    await deps.sandboxConfig({ reportDelayMs: 0 });
    await receiver.close();
  }
}
