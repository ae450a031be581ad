import { z } from 'zod';
import {
  cspSourceSchema,
  defaultSandboxOptions,
  SANDBOX_DEV_CLIENT_ID,
  SANDBOX_DEV_CLIENT_SECRET,
  type SandboxOptions,
} from './sandbox-options';

export { SANDBOX_DEV_CLIENT_ID, SANDBOX_DEV_CLIENT_SECRET };

/** An empty variable counts as unset, so `FOO=` in an env file falls back to the default. */
const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const int = (min: number, max: number, fallback: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

const rate = z.preprocess(blankToUndefined, z.coerce.number().min(0).max(1).default(0));
const failStatus = int(400, 599, 503);
const optionalString = z.preprocess(blankToUndefined, z.string().trim().min(1).optional());

const frameAncestors = z.preprocess(
  blankToUndefined,
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(cspSourceSchema))
    .optional(),
);

const DAY_S = 24 * 3600;

/** The sandbox's environment variables; the main config extends its schema with this shape. */
export const sandboxEnvSchema = z.object({
  SANDBOX_PORT: int(0, 65535, 4010),
  /** Interface to listen on; unset means 127.0.0.1 (docker: 0.0.0.0). */
  SANDBOX_HOST: optionalString,
  /** Origin the browser uses to reach the sandbox, when it differs from how the server reaches it. */
  SANDBOX_PUBLIC_URL: z.preprocess(blankToUndefined, z.url({ protocol: /^https?$/ }).optional()),
  SANDBOX_ACCESS_TOKEN_TTL_S: int(1, 365 * DAY_S, defaultSandboxOptions.accessTokenTtlS),
  SANDBOX_REFRESH_TOKEN_TTL_S: int(1, 3650 * DAY_S, defaultSandboxOptions.refreshTokenTtlS),
  SANDBOX_GRANT_LIFETIME_S: int(1, 3650 * DAY_S, defaultSandboxOptions.grantLifetimeS),
  SANDBOX_NEWER_REPORT_EACH_FETCH: z.preprocess(blankToUndefined, z.enum(['true', 'false']).default('false')),
  SANDBOX_CODE_TTL_S: int(1, 365 * DAY_S, defaultSandboxOptions.codeTtlS),
  SANDBOX_REPORT_DELAY_MS: int(0, 3_600_000, defaultSandboxOptions.reportDelayMs),
  SANDBOX_LATENCY_MS: int(0, 600_000, defaultSandboxOptions.latencyMs),
  SANDBOX_FAIL_RATE_LINK: rate,
  SANDBOX_FAIL_RATE_TOKEN: rate,
  SANDBOX_FAIL_RATE_REPORT: rate,
  SANDBOX_FAIL_STATUS_LINK: failStatus,
  SANDBOX_FAIL_STATUS_TOKEN: failStatus,
  SANDBOX_FAIL_STATUS_REPORT: failStatus,
  /** Comma-separated CSP sources allowed to frame the widget; unset keeps localhost and 127.0.0.1. */
  SANDBOX_FRAME_ANCESTORS: frameAncestors,
  SANDBOX_CLIENT_ID: optionalString,
  SANDBOX_CLIENT_SECRET: optionalString,
});

export type SandboxEnv = z.infer<typeof sandboxEnvSchema>;

/**
 * Turns parsed variables into options. The credentials default to `fallback` so the embedded
 * sandbox accepts whatever the server itself is configured with.
 */
export function sandboxOptionsFromEnv(
  parsed: SandboxEnv,
  fallback: { clientId: string; clientSecret: string },
): SandboxOptions {
  return {
    clientId: parsed.SANDBOX_CLIENT_ID ?? fallback.clientId,
    clientSecret: parsed.SANDBOX_CLIENT_SECRET ?? fallback.clientSecret,
    accessTokenTtlS: parsed.SANDBOX_ACCESS_TOKEN_TTL_S,
    refreshTokenTtlS: parsed.SANDBOX_REFRESH_TOKEN_TTL_S,
    grantLifetimeS: parsed.SANDBOX_GRANT_LIFETIME_S,
    codeTtlS: parsed.SANDBOX_CODE_TTL_S,
    reportDelayMs: parsed.SANDBOX_REPORT_DELAY_MS,
    latencyMs: parsed.SANDBOX_LATENCY_MS,
    newerReportEachFetch: parsed.SANDBOX_NEWER_REPORT_EACH_FETCH === 'true',
    faults: {
      link: { failureRate: parsed.SANDBOX_FAIL_RATE_LINK, failureStatus: parsed.SANDBOX_FAIL_STATUS_LINK },
      token: { failureRate: parsed.SANDBOX_FAIL_RATE_TOKEN, failureStatus: parsed.SANDBOX_FAIL_STATUS_TOKEN },
      report: {
        failureRate: parsed.SANDBOX_FAIL_RATE_REPORT,
        failureStatus: parsed.SANDBOX_FAIL_STATUS_REPORT,
      },
    },
    frameAncestors: parsed.SANDBOX_FRAME_ANCESTORS ?? [...defaultSandboxOptions.frameAncestors],
    variants: { ...defaultSandboxOptions.variants },
  };
}
