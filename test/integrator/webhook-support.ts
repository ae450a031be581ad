import {
  startDemoReceiver,
  type DemoReceiver,
  type ReceiverOptions,
} from '../../src/integrator/demo-webhook-receiver';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import type { RuntimeOptions } from '../../src/server';
import { sleep } from '../support/harness';
import { startLenderServer, type LenderServer } from './integrator-support';

export const SECRET = 'whsec_' + Buffer.alloc(32, 11).toString('base64');
export const OLD_SECRET = 'whsec_' + Buffer.alloc(24, 12).toString('base64');

export interface WebhookSetup {
  server: LenderServer;
  receiver: DemoReceiver;
  close(): Promise<void>;
}

/** A real receiver on 127.0.0.1 (verifying with the standardwebhooks package) and a server delivering to it. */
export async function startWebhookSetup(
  sandbox: Sandbox,
  options: {
    receiver?: Partial<ReceiverOptions>;
    env?: Record<string, string>;
    prefix?: string;
    runtime?: RuntimeOptions;
    url?: (receiverUrl: string) => string;
  } = {},
): Promise<WebhookSetup> {
  const receiver = await startDemoReceiver({ secrets: [SECRET], ...options.receiver });
  const server = await startLenderServer(
    sandbox,
    {
      WEBHOOK_URL: options.url ? options.url(receiver.url) : receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_SCHEDULE_S: '1.5,1.5,2',
      ...options.env,
    },
    options.prefix,
    options.runtime,
  );
  return {
    server,
    receiver,
    async close() {
      await server.close();
      await receiver.close();
    },
  };
}

export async function createVerification(
  server: LenderServer,
  reference: string,
): Promise<{ id: string; start_url: string }> {
  const res = await server.lender().post('/verifications', { reference }).expect(201);
  return res.body as { id: string; start_url: string };
}

export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
