import { z } from 'zod';
import { createExpiringStore, type ExpiringStore } from './expiring-store';
import {
  applyOptionsPatch,
  parseSandboxOptions,
  type SandboxOptions,
  type SandboxOptionsPatch,
} from './sandbox-config';

export interface SandboxStats {
  linksCreated: number;
  linksRejected: number;
  codeExchanges: number;
  codeExchangesRejected: number;
  refreshes: number;
  refreshesRejected: number;
  /** Tokens revoked through POST /auth/revoke. */
  revocations: number;
  /** `failed` counts injected faults and every other error that is neither "not ready" nor 401. */
  reportFetches: { ready: number; notReady: number; unauthorized: number; failed: number; total: number };
}

/** 'token' is the authorization_code grant, 'refresh' the refresh_token grant of POST /auth/token. */
export type ScriptedEndpoint = 'link' | 'token' | 'refresh' | 'report';

/** One scripted answer. Status 0 means "process the call normally, after `delayMs`". */
export interface ScriptedResponse {
  status: number;
  body?: unknown;
  retryAfterS?: number;
  delayMs?: number;
}

export const scriptedEndpointSchema = z.enum(['link', 'token', 'refresh', 'report']);

export const scriptedResponseSchema = z.strictObject({
  status: z.union([z.literal(0), z.number().int().min(200).max(599)]),
  body: z.unknown().optional(),
  retryAfterS: z.number().int().min(0).optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
});

export interface LinkRecord {
  flowId: string;
  redirectUri: string;
  state: string | undefined;
  language: string;
  periodMonths: number;
  accounts: string[];
  accountTypes: string[];
  allowMultiSelection: boolean | undefined;
  providerId: string | undefined;
}

export interface WidgetFlow {
  flowId: string;
  redirectUri: string;
  periodMonths: number;
  createdAt: number;
  /** Set by the code exchange; the report becomes ready `reportDelayMs` later. */
  exchangedAt: number | undefined;
  /** Reports served so far (with `newerReportEachFetch`, each one a month newer). */
  reportsServed?: number;
}

export interface CodeRecord {
  flowId: string;
  redirectUri: string;
}

export interface AccessTokenRecord {
  flowId: string;
  refreshToken: string;
}

export interface RefreshTokenRecord {
  flowId: string;
  accessToken: string;
  /** The end of the grant (code exchange + `grantLifetimeS`): past it no refresh succeeds. */
  grantEndsAt: number;
}

/** How long a widget link stays usable; the provider does not document it. */
export const LINK_TTL_MS = 60 * 60 * 1000;

export interface SandboxState {
  readonly now: () => number;
  options(): SandboxOptions;
  /** Widget links by their widget token. */
  readonly links: ExpiringStore<LinkRecord>;
  /** Flows by flow id; they outlive their link so reports stay readable while tokens live. */
  readonly flows: ExpiringStore<WidgetFlow>;
  readonly codes: ExpiringStore<CodeRecord>;
  readonly accessTokens: ExpiringStore<AccessTokenRecord>;
  readonly refreshTokens: ExpiringStore<RefreshTokenRecord>;
  /** Mutable counters; `stats()` hands out copies. */
  readonly counters: SandboxStats;
  /** The last report body served per flow id (bounded), for tests comparing what reached the lender. */
  readonly servedReports: Map<string, unknown>;
  nextScripted(endpoint: ScriptedEndpoint): ScriptedResponse | undefined;
  stats(): SandboxStats;
  resetStats(): void;
  configure(patch: SandboxOptionsPatch): void;
  /** Replaces the queue of that endpoint; an empty list clears it. */
  script(endpoint: ScriptedEndpoint, responses: ScriptedResponse[]): void;
  revokeAll(): void;
}

function zeroStats(): SandboxStats {
  return {
    linksCreated: 0,
    linksRejected: 0,
    codeExchanges: 0,
    codeExchangesRejected: 0,
    refreshes: 0,
    refreshesRejected: 0,
    revocations: 0,
    reportFetches: { ready: 0, notReady: 0, unauthorized: 0, failed: 0, total: 0 },
  };
}

export function createSandboxState(initial: SandboxOptions, now: () => number = Date.now): SandboxState {
  let options = parseSandboxOptions(initial);
  const counters = zeroStats();
  const scripts = new Map<ScriptedEndpoint, ScriptedResponse[]>();
  const accessTokens = createExpiringStore<AccessTokenRecord>(now);
  const refreshTokens = createExpiringStore<RefreshTokenRecord>(now);

  return {
    now,
    options: () => options,
    links: createExpiringStore<LinkRecord>(now),
    flows: createExpiringStore<WidgetFlow>(now),
    codes: createExpiringStore<CodeRecord>(now),
    accessTokens,
    refreshTokens,
    counters,
    servedReports: new Map(),
    nextScripted: (endpoint) => scripts.get(endpoint)?.shift(),
    stats: () => ({ ...counters, reportFetches: { ...counters.reportFetches } }),
    resetStats() {
      // In place: routes hold references to the nested counters.
      const zero = zeroStats();
      Object.assign(counters.reportFetches, zero.reportFetches);
      Object.assign(counters, { ...zero, reportFetches: counters.reportFetches });
    },
    configure(patch) {
      options = applyOptionsPatch(options, patch);
    },
    script(endpoint, responses) {
      const valid = z.array(scriptedResponseSchema).parse(responses);
      scripts.set(scriptedEndpointSchema.parse(endpoint), valid);
    },
    revokeAll() {
      accessTokens.clear();
      refreshTokens.clear();
    },
  };
}
