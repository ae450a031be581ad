import pino from 'pino';
import { issuesOf, withoutBlanks } from '../config/entry';
import {
  SANDBOX_DEV_CLIENT_ID,
  SANDBOX_DEV_CLIENT_SECRET,
  sandboxEnvSchema,
  sandboxOptionsFromEnv,
} from './sandbox-config';
import { startSandbox } from './sandbox-server';

/** `npm run sandbox`: the simulated finX provider as its own process. */
async function main(): Promise<void> {
  // An empty variable counts as unset, as in the server's configuration.
  const parsed = sandboxEnvSchema.safeParse(withoutBlanks(process.env));
  if (!parsed.success) {
    const lines = issuesOf(parsed.error).map((line) => `  - ${line}`);
    process.stderr.write(`Invalid sandbox configuration:\n${lines.join('\n')}\n`);
    process.exit(1);
  }
  const env = parsed.data;
  const logger = pino({ name: 'finx-sandbox' });
  const sandbox = await startSandbox(
    sandboxOptionsFromEnv(env, { clientId: SANDBOX_DEV_CLIENT_ID, clientSecret: SANDBOX_DEV_CLIENT_SECRET }),
    {
      port: env.SANDBOX_PORT,
      host: env.SANDBOX_HOST ?? '127.0.0.1',
      publicUrl: env.SANDBOX_PUBLIC_URL,
      onError: (err) => logger.error({ err }, 'sandbox request failed'),
    },
  );
  logger.info({ url: sandbox.url }, 'finX sandbox listening');

  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    sandbox.close().then(
      () => logger.info({ signal }, 'finX sandbox stopped'),
      (err: unknown) => {
        logger.error({ err, signal }, 'finX sandbox did not close cleanly');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`finX sandbox failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
