import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ProviderError, type ProviderEndpoint } from './provider-errors';
import {
  incomeReportSchema,
  providerErrorBodySchema,
  tokenResponseSchema,
  widgetLinkSchema,
} from './provider-schemas';

export interface ProviderSettings {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** The whole request, connect to last byte; exact, where undici's own timers tick coarsely. */
  requestTimeoutMs: number;
  maxConnections: number;
  /** Where to revoke a refresh token on deletion; unset: finX's revocation endpoint is not documented, so none is called. */
  revokePath: string | undefined;
  /** Where the income report is read (FINX_REPORT_PATH); `{id}` becomes the flow id. */
  reportPath: string;
}

export interface WidgetLinkRequest {
  redirectUri: string;
  state: string;
  language: string;
  reportingPeriodMonths: number;
  iban?: string | undefined;
}

export interface TokenSet {
  accessToken: string;
  /** Absent when the provider did not rotate it: keep the old one. */
  refreshToken: string | undefined;
  /** Absent when the provider sent no usable `expires_in`: the caller assumes its configured default. */
  expiresInS: number | undefined;
}

export type ReportResult =
  | { kind: 'ready'; report: Record<string, unknown> }
  /** `notFound`: the provider answered 404, which is also what a wrong report path looks like. */
  | { kind: 'not_ready'; retryAfterMs: number | undefined; notFound: boolean };

export type ProviderCallObserver = (endpoint: ProviderEndpoint, outcome: string, durationMs: number) => void;

export interface ProviderClient {
  createWidgetLink(input: WidgetLinkRequest): Promise<{ location: string; flowId: string }>;
  exchangeCode(code: string, redirectUri: string): Promise<TokenSet>;
  refreshTokens(refreshToken: string): Promise<TokenSet>;
  getIncomeReport(flowId: string, accessToken: string): Promise<ReportResult>;
  /** Revokes a token where a revocation path is configured; false when none is. */
  revokeToken(token: string): Promise<boolean>;
  close(): Promise<void>;
}

interface RawResponse {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: unknown;
}

/** The finX API over one keep-alive undici pool. Each function sends one request and turns the answer into a typed value or a ProviderError. */
export function createProviderClient(
  settings: ProviderSettings,
  observe: ProviderCallObserver = () => undefined,
): ProviderClient {
  const agent = new Agent({
    connections: settings.maxConnections,
    connect: { timeout: settings.connectTimeoutMs },
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs,
    keepAliveTimeout: 10_000,
  });
  const basic = `Basic ${Buffer.from(`${settings.clientId}:${settings.clientSecret}`).toString('base64')}`;

  async function send(
    endpoint: ProviderEndpoint,
    method: 'GET' | 'POST',
    path: string,
    authorization: string,
    json?: unknown,
  ): Promise<RawResponse> {
    const started = performance.now();
    let outcome = 'error';
    try {
      const res = await request(settings.baseUrl + path, {
        dispatcher: agent,
        method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(settings.requestTimeoutMs),
      });
      const text = await res.body.text();
      outcome = String(res.statusCode);
      let body: unknown = undefined;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      return { status: res.statusCode, headers: res.headers, body };
    } catch (err) {
      const timedOut =
        err instanceof undiciErrors.HeadersTimeoutError ||
        err instanceof undiciErrors.BodyTimeoutError ||
        err instanceof undiciErrors.ConnectTimeoutError ||
        (err as Error).name === 'TimeoutError';
      outcome = timedOut ? 'timeout' : 'network_error';
      throw new ProviderError({
        endpoint,
        failure: timedOut ? 'timeout' : 'unavailable',
        message: `finX ${endpoint} request failed: ${(err as Error).message}`,
        mayHaveReachedProvider: !neverSent(err),
        cause: err,
      });
    } finally {
      observe(endpoint, outcome, performance.now() - started);
    }
  }

  return {
    async createWidgetLink(input) {
      const body: Record<string, unknown> = {
        redirect_uri: input.redirectUri,
        state: input.state,
        language: input.language,
        reporting_period: input.reportingPeriodMonths,
      };
      // Pre-selecting the account skips the bank picker; the provider recommends no multi-selection then.
      if (input.iban) {
        body.accounts = [{ id: input.iban }];
        body.allow_multi_selection = false;
      }
      const res = await send('link', 'POST', '/onetime/income-report', basic, body);
      const link = expectSuccess('link', res, widgetLinkSchema, [200, 201]);
      return { location: link.location, flowId: link.id };
    },

    async exchangeCode(code, redirectUri) {
      const res = await send('token', 'POST', '/auth/token', basic, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
      });
      return toTokenSet(expectSuccess('token', res, tokenResponseSchema, [200]));
    },

    async refreshTokens(refreshToken) {
      const res = await send('refresh', 'POST', '/auth/token', basic, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      });
      return toTokenSet(expectSuccess('refresh', res, tokenResponseSchema, [200]));
    },

    async getIncomeReport(flowId, accessToken) {
      const path = settings.reportPath.replace(/\{id\}/g, encodeURIComponent(flowId));
      // An idempotent GET: a connection that broke (often a stale keep-alive socket) is retried once.
      const res = await send('report', 'GET', path, `Bearer ${accessToken}`).catch(async (err: unknown) => {
        if (!(err instanceof ProviderError) || err.failure !== 'unavailable') throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
        return send('report', 'GET', path, `Bearer ${accessToken}`);
      });
      // Readiness is undocumented (docs/finx-api.md §4): these answers right after the exchange mean "not yet".
      const code = errorCode(res.body);
      if (
        res.status === 404 ||
        res.status === 423 ||
        res.status === 429 ||
        res.status === 503 ||
        res.status === 504 ||
        code === 1008
      ) {
        if (res.status !== 404 || code === undefined || code === 1002) {
          return { kind: 'not_ready', retryAfterMs: retryAfterMs(res.headers), notFound: res.status === 404 };
        }
      }
      return { kind: 'ready', report: expectSuccess('report', res, incomeReportSchema, [200]) };
    },

    async revokeToken(token) {
      if (!settings.revokePath) return false;
      const res = await send('revoke', 'POST', settings.revokePath, basic, {
        token,
        token_type_hint: 'refresh_token',
      });
      if (res.status < 200 || res.status >= 300) throw errorFromResponse('revoke', res);
      return true;
    },

    close: () => agent.close(),
  };
}

function expectSuccess<S extends z.ZodType>(
  endpoint: ProviderEndpoint,
  res: RawResponse,
  schema: S,
  ok: number[],
): z.infer<S> {
  if (!ok.includes(res.status)) throw errorFromResponse(endpoint, res);
  const parsed = schema.safeParse(res.body);
  if (!parsed.success) {
    throw new ProviderError({
      endpoint,
      failure: 'invalid_response',
      status: res.status,
      message: `finX ${endpoint} answered ${res.status} with an unexpected body`,
      mayHaveReachedProvider: true,
    });
  }
  return parsed.data;
}

function errorFromResponse(endpoint: ProviderEndpoint, res: RawResponse): ProviderError {
  const failure =
    res.status === 401
      ? 'unauthorized'
      : res.status >= 500 || res.status === 429
        ? 'unavailable'
        : 'rejected';
  return new ProviderError({
    endpoint,
    failure,
    status: res.status,
    providerCode: errorCode(res.body),
    retryAfterMs: retryAfterMs(res.headers),
    message: `finX ${endpoint} answered ${res.status}`,
    mayHaveReachedProvider: true,
  });
}

function errorCode(body: unknown): number | string | undefined {
  const parsed = providerErrorBodySchema.safeParse(body);
  if (!parsed.success) return undefined;
  const error = parsed.data.error;
  return typeof error === 'string' ? error : error.code;
}

function toTokenSet(t: z.infer<typeof tokenResponseSchema>): TokenSet {
  return { accessToken: t.access_token, refreshToken: t.refresh_token, expiresInS: t.expires_in };
}

/** Retry-After in seconds or as an HTTP date; capped so a hostile value cannot park a verification. */
function retryAfterMs(headers: RawResponse['headers']): number | undefined {
  const value = headers['retry-after'];
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw) - Date.now();
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), 60_000) : undefined;
}

/** Connection refused or never established: the request certainly did not reach the provider. */
function neverSent(err: unknown): boolean {
  if (err instanceof undiciErrors.ConnectTimeoutError) return true;
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}
