import { sandboxEnvSchema } from '../sandbox/sandbox-config';
import { assemble } from './assemble';
import { developmentDefaults } from './development-defaults';
import { SERVER_ENTRIES } from './entries';
import { issuesOf, schemaOf, withoutBlanks } from './entry';
import { retryWindowMs } from './parsers';
import { readValues } from './read-values';
import { CONSISTENCY_RULES, PRODUCTION_RULES, problemsOf } from './rules';
import { ConfigError, type Config } from './types';

export const envSchema = schemaOf(SERVER_ENTRIES).extend(sandboxEnvSchema.shape);

/**
 * Reads the whole configuration from `env` once. Lists every problem at once in a ConfigError.
 * With nothing set it gives the embedded development setup: sandbox provider, in-process store.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const given = withoutBlanks(env);
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error));
  const e = parsed.data;
  const problems: string[] = [];
  const values = readValues(e, problems);
  problems.push(...problemsOf(CONSISTENCY_RULES, e, values));
  if (e.NODE_ENV === 'production') problems.push(...problemsOf(PRODUCTION_RULES, e, values));

  // Retention must outlast the webhook retry window: an event, its verification and report are
  // still there when the last retry goes out (and the lender then fetches the report).
  let retentionS = e.RETENTION_S;
  if (values.webhook.url) {
    const windowS = Math.ceil(
      retryWindowMs({ scheduleMs: values.webhook.scheduleMs, timeoutMs: e.WEBHOOK_TIMEOUT_MS }) / 1000,
    );
    if (given.RETENTION_S === undefined)
      retentionS = Math.max(retentionS, Math.ceil(windowS / 86400) * 86400);
    else if (retentionS < windowS)
      problems.push(
        `RETENTION_S: ${retentionS} s is shorter than the webhook retry window (${windowS} s: WEBHOOK_RETRY_SCHEDULE_S with +20 % jitter and a timeout per attempt); raise it or shorten the schedule`,
      );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return assemble(e, values, developmentDefaults(e, values), retentionS);
}
