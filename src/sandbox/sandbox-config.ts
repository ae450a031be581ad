import { z } from 'zod';
import { defineEntries, int, optionalString, schemaOf } from '../config/entry';
import {
  cspSourceSchema,
  defaultSandboxOptions,
  SANDBOX_DEV_CLIENT_ID,
  SANDBOX_DEV_CLIENT_SECRET,
  type SandboxOptions,
} from './sandbox-options';

export { SANDBOX_DEV_CLIENT_ID, SANDBOX_DEV_CLIENT_SECRET };

const rate = z.coerce.number().min(0).max(1).default(0);
const failStatus = int(400, 503, 599);

const frameAncestors = optionalString.pipe(
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

/** The sandbox's environment variables, documented like the server's (src/config/entries.ts). */
export const SANDBOX_ENTRIES = defineEntries({
  SANDBOX_PORT: {
    group: 'sandbox',
    doc: 'Port the sandbox listens on. Default 4010.',
    example: '4010',
    schema: int(0, 4010, 65535),
  },
  SANDBOX_HOST: {
    group: 'sandbox',
    doc: 'Interface the sandbox listens on. Default 127.0.0.1 (docker: 0.0.0.0).',
    example: '127.0.0.1',
    schema: optionalString,
  },
  SANDBOX_PUBLIC_URL: {
    group: 'sandbox',
    doc: 'Origin browsers use to reach the sandbox, used in widget locations when it differs from the listening address. Default: http://<host>:<port>.',
    example: 'http://localhost:4010',
    schema: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  },
  SANDBOX_ACCESS_TOKEN_TTL_S: {
    group: 'sandbox',
    doc: 'Lifetime of sandbox access tokens, in seconds. Default 3600.',
    example: '3600',
    schema: int(1, defaultSandboxOptions.accessTokenTtlS, 365 * DAY_S),
  },
  SANDBOX_REFRESH_TOKEN_TTL_S: {
    group: 'sandbox',
    doc: 'Lifetime of sandbox refresh tokens, in seconds. Default 7776000 (90 days).',
    example: '7776000',
    schema: int(1, defaultSandboxOptions.refreshTokenTtlS, 3650 * DAY_S),
  },
  SANDBOX_GRANT_LIFETIME_S: {
    group: 'sandbox',
    doc: 'Lifetime of a sandbox grant from the code exchange however often it is refreshed, in seconds. Default 7776000 (90 days).',
    example: '7776000',
    schema: int(1, defaultSandboxOptions.grantLifetimeS, 3650 * DAY_S),
  },
  SANDBOX_NEWER_REPORT_EACH_FETCH: {
    group: 'sandbox',
    doc: '`true`: every report fetch of a flow is one booking month newer (a refreshed report is visibly newer). Default false.',
    example: 'false',
    schema: z.enum(['true', 'false']).default('false'),
  },
  SANDBOX_CODE_TTL_S: {
    group: 'sandbox',
    doc: 'Lifetime of authorization codes, in seconds. Default 300.',
    example: '300',
    schema: int(1, defaultSandboxOptions.codeTtlS, 365 * DAY_S),
  },
  SANDBOX_REPORT_DELAY_MS: {
    group: 'sandbox',
    doc: 'Report reads answer "not ready" until this long after the code exchange, in ms. Default 3000.',
    example: '3000',
    schema: int(0, defaultSandboxOptions.reportDelayMs, 3_600_000),
  },
  SANDBOX_LATENCY_MS: {
    group: 'sandbox',
    doc: 'Delay added to every API response, in ms. Default 0.',
    example: '0',
    schema: int(0, defaultSandboxOptions.latencyMs, 600_000),
  },
  SANDBOX_FAIL_RATE_LINK: {
    group: 'sandbox',
    doc: 'Probability 0..1 that a link / token / report call fails on purpose. Default 0.',
    example: '0',
    schema: rate,
  },
  SANDBOX_FAIL_RATE_TOKEN: {
    group: 'sandbox',
    doc: 'Probability 0..1 that a link / token / report call fails on purpose. Default 0.',
    example: '0',
    schema: rate,
  },
  SANDBOX_FAIL_RATE_REPORT: {
    group: 'sandbox',
    doc: 'Probability 0..1 that a link / token / report call fails on purpose. Default 0.',
    example: '0',
    schema: rate,
  },
  SANDBOX_FAIL_STATUS_LINK: {
    group: 'sandbox',
    doc: 'HTTP status (400-599) those injected failures answer with. Default 503.',
    example: '503',
    schema: failStatus,
  },
  SANDBOX_FAIL_STATUS_TOKEN: {
    group: 'sandbox',
    doc: 'HTTP status (400-599) those injected failures answer with. Default 503.',
    example: '503',
    schema: failStatus,
  },
  SANDBOX_FAIL_STATUS_REPORT: {
    group: 'sandbox',
    doc: 'HTTP status (400-599) those injected failures answer with. Default 503.',
    example: '503',
    schema: failStatus,
  },
  SANDBOX_FRAME_ANCESTORS: {
    group: 'sandbox',
    doc: 'Comma-separated CSP sources allowed to frame the widget. Default http://localhost:*,http://127.0.0.1:*.',
    example: 'http://localhost:*,http://127.0.0.1:*',
    schema: frameAncestors,
  },
  SANDBOX_CLIENT_ID: {
    group: 'sandbox',
    doc: "Credentials the sandbox accepts. Default: embedded = the server's FINX_CLIENT_ID/SECRET; standalone = its dev credentials.",
    schema: optionalString,
  },
  SANDBOX_CLIENT_SECRET: {
    group: 'sandbox',
    doc: "Credentials the sandbox accepts. Default: embedded = the server's FINX_CLIENT_ID/SECRET; standalone = its dev credentials.",
    schema: optionalString,
  },
});

/** The sandbox's schema; the main config extends its own with this shape. */
export const sandboxEnvSchema = schemaOf(SANDBOX_ENTRIES);

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
