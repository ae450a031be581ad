import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import { createControlRoutes } from './control-routes';
import { FinxCode, sendFinxError } from './finx-error';
import { createLinkRoutes } from './link-routes';
import { createReportRoutes } from './report-routes';
import { defaultSandboxOptions, type SandboxOptions, type SandboxOptionsPatch } from './sandbox-config';
import {
  createSandboxState,
  type SandboxState,
  type SandboxStats,
  type ScriptedEndpoint,
  type ScriptedResponse,
} from './sandbox-state';
import { createTokenRoutes } from './token-routes';
import { createWidgetRoutes } from './widget-routes';

export type { EndpointFault, SandboxOptions, SandboxOptionsPatch } from './sandbox-config';
export type { SandboxStats, ScriptedEndpoint, ScriptedResponse } from './sandbox-state';
export { defaultSandboxOptions };

export interface Sandbox {
  /** Base URL of the API and the widget, e.g. http://127.0.0.1:4010. */
  url: string;
  stats(): SandboxStats;
  resetStats(): void;
  /** Changes options at run time; `faults` may be partial. Throws a ZodError on invalid values. */
  configure(patch: SandboxOptionsPatch): void;
  /**
   * The next N calls to `endpoint` answer these instead of being processed ('token' = the
   * authorization_code grant, 'refresh' = the refresh_token grant). Replaces that endpoint's queue.
   * `{ status: 0, delayMs }` means "process normally, after the delay".
   */
  script(endpoint: ScriptedEndpoint, responses: ScriptedResponse[]): void;
  /** Invalidates every access and refresh token (revocation or expiry). */
  revokeAll(): void;
  /** The last report this sandbox served for a flow, as sent. */
  servedReport(flowId: string): unknown;
  close(): Promise<void>;
}

export interface SandboxAppDeps {
  /** Shared with the caller to observe and steer the app; created from `options` when absent. */
  state?: SandboxState;
  /** Base of widget locations; when absent, derived from the request's Host header. */
  baseUrl?: () => string;
  now?: () => number;
  /** Told about unexpected errors (answered as 500 without detail). */
  onError?: (err: unknown) => void;
}

/** The sandbox provider as an Express app; it never listens (see startSandbox). */
export function createSandboxApp(options: SandboxOptions, deps: SandboxAppDeps = {}): Express {
  const state = deps.state ?? createSandboxState(options, deps.now);
  const baseUrl = (req: Request): string =>
    deps.baseUrl?.() ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  const app = express();
  app.disable('x-powered-by');
  // Conditional GETs would let a client see 304s the provider never sends.
  app.set('etag', false);

  app.use(createLinkRoutes(state, baseUrl));
  app.use(createTokenRoutes(state));
  app.use(createReportRoutes(state));
  app.use(createWidgetRoutes(state));
  app.use(createControlRoutes(state));

  app.use((_req, res) => {
    sendFinxError(res, 404, FinxCode.notFound, 'Not found', 'No such endpoint');
  });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = (err as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendFinxError(res, status, FinxCode.invalidRequest, 'Invalid request', 'The request could not be read');
      return;
    }
    deps.onError?.(err);
    sendFinxError(res, 500, FinxCode.general, 'Internal error', 'The sandbox failed to process the request');
  };
  app.use(onError);
  return app;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export interface StartSandboxOptions {
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Origin browsers use to reach the sandbox (e.g. from outside docker); also becomes `url`. */
  publicUrl?: string;
  onError?: (err: unknown) => void;
}

/** Starts the sandbox over real HTTP and resolves once it listens. */
export async function startSandbox(
  options: SandboxOptions,
  opts: StartSandboxOptions = {},
): Promise<Sandbox> {
  const state = createSandboxState(options);
  let url = opts.publicUrl?.replace(/\/+$/, '') ?? '';
  const app = createSandboxApp(options, { state, baseUrl: () => url, onError: opts.onError });
  const server = createServer(app);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  if (!url) url = `http://${urlHost(host)}:${port}`;

  return {
    url,
    stats: () => state.stats(),
    resetStats: () => state.resetStats(),
    configure: (patch) => state.configure(patch),
    script: (endpoint, responses) => state.script(endpoint, responses),
    revokeAll: () => state.revokeAll(),
    servedReport: (flowId) => state.servedReports.get(flowId),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections (undici, browsers) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
