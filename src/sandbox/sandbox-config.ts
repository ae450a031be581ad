import { z } from 'zod';
import { defineEntries, int, optionalString, schemaOf } from '../config/entry';

// The sandbox's configuration in one place: its options (what a test or the control API may
// change), their defaults, and the environment variables `npm run sandbox` and the embedded mode
// read them from.
export interface EndpointFault {
  /** Probability 0..1 that a call answers `failureStatus` instead of being processed. */
  failureRate: number;
  failureStatus: number;
}

export type FaultEndpoint = 'link' | 'token' | 'report';

/**
 * Behaviours of the real provider that differ from the sandbox's defaults (docs/finx-api.md): switch
 * them on to see how the server copes with each, over real HTTP.
 */
export interface ProviderVariants {
  /** Token answers carry `expires_in` as a number (default), as a numeric string, or not at all. */
  tokenExpiresIn: 'number' | 'string' | 'absent';
  /** Length of the authorization codes the widget issues; the provider documents none. Default 48. */
  codeLength: number;
  /** The widget's cancel flag: `cancel` (older docs, default) or `abort` (the newest docs). */
  cancelFlag: 'cancel' | 'abort';
  /**
   * The iframe postMessage: `classic` `{ location, query, url }` with string flags (default), or
   * `link` `{ link, query: { state, code, success, abort, flow_id } }` with JSON booleans.
   */
  messageShape: 'classic' | 'link';
  /** Host name the widget location uses instead of the sandbox's own (a second widget host); null: none. */
  widgetHost: string | null;
  /** Host name the widget completes on (it moves between the provider's hosts mid-flow); null: its own. */
  completeHost: string | null;
  /** Where reports are served: `path` /rest/income-reports/{id} (default) or only `query` /rest/income-report?id={id}. */
  reportPath: 'path' | 'query';
}

export interface SandboxOptions {
  clientId: string;
  clientSecret: string;
  accessTokenTtlS: number;
  /** Lifetime of one refresh token: unused (not replaced by a refresh) this long, the grant is lost (the inactivity limit). */
  refreshTokenTtlS: number;
  /** Lifetime of the whole grant from the code exchange, however often it is refreshed (the consent's 90 days). */
  grantLifetimeS: number;
  codeTtlS: number;
  /** Report reads answer 404 code 1002 until this long after the code exchange. */
  reportDelayMs: number;
  /** Added to every API response (not to widget pages). */
  latencyMs: number;
  /** Each fetch of a flow's report is one booking month newer than the last (a refreshed report is visibly newer). */
  newerReportEachFetch: boolean;
  faults: Record<FaultEndpoint, EndpointFault>;
  /** Origins allowed to frame the widget page (CSP `frame-ancestors` source expressions). */
  frameAncestors: string[];
  variants: ProviderVariants;
}

/** A partial update; `faults` may name only the endpoints and fields that change. */
export type SandboxOptionsPatch = Partial<Omit<SandboxOptions, 'faults' | 'variants'>> & {
  faults?: Partial<Record<FaultEndpoint, Partial<EndpointFault>>>;
  variants?: Partial<ProviderVariants>;
};

/** Development credentials: the sandbox is a fake provider, so these guard nothing real. */
export const SANDBOX_DEV_CLIENT_ID = 'sandbox-client';
export const SANDBOX_DEV_CLIENT_SECRET = 'sandbox-secret-not-for-production';

const noFault: EndpointFault = { failureRate: 0, failureStatus: 503 };

// Frozen, nested objects included: callers spread it, and a shared `faults` must never change under them.
export const defaultSandboxOptions: SandboxOptions = Object.freeze({
  clientId: SANDBOX_DEV_CLIENT_ID,
  clientSecret: SANDBOX_DEV_CLIENT_SECRET,
  accessTokenTtlS: 3600,
  refreshTokenTtlS: 90 * 24 * 3600,
  grantLifetimeS: 90 * 24 * 3600,
  codeTtlS: 300,
  reportDelayMs: 3000,
  latencyMs: 0,
  newerReportEachFetch: false,
  faults: Object.freeze({
    link: Object.freeze({ ...noFault }),
    token: Object.freeze({ ...noFault }),
    report: Object.freeze({ ...noFault }),
  }),
  frameAncestors: Object.freeze(['http://localhost:*', 'http://127.0.0.1:*']) as string[],
  variants: Object.freeze({
    tokenExpiresIn: 'number',
    codeLength: 48,
    cancelFlag: 'cancel',
    messageShape: 'classic',
    widgetHost: null,
    completeHost: null,
    reportPath: 'path',
  }),
});

/**
 * A CSP source expression must not be able to break out of the header: no whitespace, `;` or `,`,
 * and quotes only for the keywords.
 */
export const cspSourceSchema = z
  .string()
  .regex(/^(?:'self'|'none'|[^\s;,']+)$/, 'must be a CSP source expression such as https://app.example.com');

const faultSchema = z.strictObject({
  failureRate: z.number().min(0).max(1),
  failureStatus: z.number().int().min(400).max(599),
});

const variantsSchema = z.strictObject({
  tokenExpiresIn: z.enum(['number', 'string', 'absent']),
  codeLength: z.number().int().min(8).max(16_384),
  cancelFlag: z.enum(['cancel', 'abort']),
  messageShape: z.enum(['classic', 'link']),
  widgetHost: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,253}$/, 'a host name')
    .nullable(),
  completeHost: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,253}$/, 'a host name')
    .nullable(),
  reportPath: z.enum(['path', 'query']),
});

export const sandboxOptionsSchema = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  accessTokenTtlS: z.number().int().min(1),
  refreshTokenTtlS: z.number().int().min(1),
  grantLifetimeS: z.number().int().min(1),
  codeTtlS: z.number().int().min(1),
  reportDelayMs: z.number().int().min(0),
  latencyMs: z.number().int().min(0),
  newerReportEachFetch: z.boolean(),
  faults: z.strictObject({ link: faultSchema, token: faultSchema, report: faultSchema }),
  frameAncestors: z.array(cspSourceSchema),
  variants: variantsSchema,
});

export const sandboxOptionsPatchSchema = sandboxOptionsSchema
  .extend({
    faults: z
      .strictObject({
        link: faultSchema.partial().optional(),
        token: faultSchema.partial().optional(),
        report: faultSchema.partial().optional(),
      })
      .optional(),
    variants: variantsSchema.partial().optional(),
  })
  .partial();

/** Returns a new, validated options object; throws a ZodError listing every problem. */
export function applyOptionsPatch(current: SandboxOptions, patch: SandboxOptionsPatch): SandboxOptions {
  const valid = sandboxOptionsPatchSchema.parse(patch);
  const { faults, variants, ...rest } = valid;
  return sandboxOptionsSchema.parse({
    ...current,
    ...rest,
    faults: {
      link: { ...current.faults.link, ...faults?.link },
      token: { ...current.faults.token, ...faults?.token },
      report: { ...current.faults.report, ...faults?.report },
    },
    variants: { ...current.variants, ...variants },
  });
}

/** Validates complete options (e.g. at start) and copies them so later patches never alias the caller's object. */
export function parseSandboxOptions(options: SandboxOptions): SandboxOptions {
  return sandboxOptionsSchema.parse(options);
}

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
