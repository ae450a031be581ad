import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, verified or not. */
export interface ReceivedDelivery {
  webhookId: string;
  timestamp: number;
  signature: string;
  body: string;
  /** Which of the receiver's secrets verified it (indexes into `secrets`); empty: forged or corrupted. */
  verifiedWith: number[];
  receivedAt: number;
  /** What the receiver answered. */
  status: number;
  /** True for the first verified delivery of its webhook id; later ones are duplicates. */
  first: boolean;
}

export interface ReceiverOptions {
  /** `whsec_…` secrets the receiver accepts (during a rotation: the new and the old one). */
  secrets: string[];
  /** Decides the answer for a delivery (tests: 503, 410, slow); default 204 right away. */
  respond?: (
    delivery: ReceivedDelivery,
    attempt: number,
  ) => { status: number; delayMs?: number; headers?: Record<string, string> };
  /** Told of each new verified event, after the answer went out (fetch the report here). */
  onEvent?: (event: { id: string; type: string; timestamp: string; data: Record<string, unknown> }) => void;
  host?: string;
  port?: number;
}

export interface DemoReceiver {
  url: string;
  deliveries: ReceivedDelivery[];
  close(): Promise<void>;
}

/**
 * A lender's webhook receiver as the README describes it, for the demo, the tests and the benchmark:
 * raw body, verification with the `standardwebhooks` package (never this server's own code),
 * deduplication by `webhook-id`, a fast 2xx, and the work (reading the report) afterwards.
 */
export async function startDemoReceiver(options: ReceiverOptions): Promise<DemoReceiver> {
  const verifiers = options.secrets.map((secret) => new Webhook(secret));
  const seen = new Set<string>();
  const attempts = new Map<string, number>();
  const deliveries: ReceivedDelivery[] = [];
  const app = express();
  app.post('/webhooks', express.raw({ type: 'application/json', limit: '64kb' }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const headers = {
      'webhook-id': req.get('webhook-id') ?? '',
      'webhook-timestamp': req.get('webhook-timestamp') ?? '',
      'webhook-signature': req.get('webhook-signature') ?? '',
    };
    const verifiedWith = verifiers.flatMap((verifier, i) => {
      try {
        verifier.verify(body, headers);
        return [i];
      } catch {
        return [];
      }
    });
    const webhookId = headers['webhook-id'];
    const attempt = (attempts.get(webhookId) ?? 0) + 1;
    attempts.set(webhookId, attempt);
    const delivery: ReceivedDelivery = {
      webhookId,
      timestamp: Number(headers['webhook-timestamp']),
      signature: headers['webhook-signature'],
      body,
      verifiedWith,
      receivedAt: Date.now(),
      status: verifiedWith.length === 0 ? 400 : 204,
      first: false,
    };
    if (verifiedWith.length > 0 && options.respond) {
      const answer = options.respond(delivery, attempt);
      delivery.status = answer.status;
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
    }
    const ok = delivery.status >= 200 && delivery.status < 300;
    delivery.first = ok && !seen.has(webhookId);
    if (delivery.first) seen.add(webhookId);
    deliveries.push(delivery);
    res.status(delivery.status).end();
    if (delivery.first && options.onEvent) {
      const event = JSON.parse(body) as { type: string; timestamp: string; data: Record<string, unknown> };
      setImmediate(() => options.onEvent?.({ id: webhookId, ...event }));
    }
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/webhooks`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * `npx ts-node --transpile-only src/integrator/demo-webhook-receiver.ts [port]`: a receiver for the
 * demo, verifying with the server's WEBHOOK_SECRET (and WEBHOOK_PREVIOUS_SECRETS); start the server
 * with WEBHOOK_URL=http://127.0.0.1:<port>/webhooks to see every delivery printed.
 */
async function main(): Promise<void> {
  const secrets = [
    process.env.WEBHOOK_SECRET ?? '',
    ...(process.env.WEBHOOK_PREVIOUS_SECRETS ?? '').split(','),
  ]
    .map((s) => s.trim())
    .filter(Boolean);
  if (secrets.length === 0) throw new Error('set WEBHOOK_SECRET (the same as the server’s)');
  const receiver = await startDemoReceiver({
    secrets,
    port: Number(process.argv[2] ?? 4100),
    onEvent: (event) =>
      process.stdout.write(
        `verified ${event.id} ${event.type} reference=${String(event.data.reference)} at ${event.timestamp}\n`,
      ),
  });
  process.stdout.write(`webhook receiver on ${receiver.url}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
