import path from 'node:path';
import type { RequestListener } from 'node:http';
import express from 'express';
import type { Store } from 'express-session';
import type { Logger } from 'pino';
import type { Config } from './config';
import { AppError } from './errors';
import { callbackRoutes } from './http/callback-routes';
import { csrfGuard } from './http/csrf-guard';
import { browserErrorRedirect, errorHandler, methodNotAllowed, notFound } from './http/error-handler';
import { healthRoutes } from './http/health-routes';
import { byIp, byIpWithoutSession, byIpWithSession, bySession, type RateRule } from './http/rate-limit';
import { createPollHandler, isPoll } from './http/poll-handler';
import { securityHeaderList, securityHeaders } from './http/security-headers';
import type { WaitingPolls } from './http/waiting-polls';
import { MAX_URL_LENGTH, requestContext } from './http/request-context';
import { sessionMiddleware, type SessionSettings } from './http/session-middleware';
import { verificationRoutes } from './http/verification-routes';
import type { VerificationReader } from './verification/read-verification';
import type { VerificationDeps } from './verification/verification-deps';

export interface AppDeps {
  logger: Logger;
  verification: VerificationDeps;
  reader: VerificationReader;
  /** Polls held under `Prefer: wait`. */
  waiting: WaitingPolls;
  /** POLL_MAX_WAIT_S. */
  maxWaitS: number;
  sessionStore: Store;
  session: SessionSettings;
  allowedOrigins: string[];
  returnUrl: string;
  trustProxy: boolean | number | string;
  rateLimits: Config['rateLimits'];
  checkReady: () => Promise<void>;
  /** The lender's API, mounted at /integrator/v1 ahead of sessions and the CSRF guard; absent when off. */
  integrator?: express.Router | undefined;
  /** Extra routes mounted before the API (metrics, OpenAPI). */
  extraRoutes?: express.Router[];
}

/** Methods of the API's own paths, for 405 answers with an Allow header. */
const ALLOWED_METHODS: Record<string, string[]> = {
  '/verification/start': ['GET', 'HEAD'],
  '/callback': ['GET', 'HEAD'],
  '/api/verification': ['GET', 'HEAD', 'POST', 'DELETE'],
  '/api/verification/callback': ['POST'],
  '/healthz': ['GET', 'HEAD'],
  '/readyz': ['GET', 'HEAD'],
};
const HOUR = 3_600_000;
const MINUTE = 60_000;

/**
 * Builds the request handler: the poll handler (every GET of /api/verification) beside the Express
 * app (middleware order, routes, error handlers). It does no I/O of its own and never listens.
 */
export function createApp(deps: AppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // Our ETags are strong and computed from the answer; Express' weak ones would be computed again per poll.
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy);
  app.set('query parser', 'simple');

  const widgetOrigins = deps.verification.settings.widgetAllowedOrigins;
  const https = deps.session.secureCookie;

  const headerList = securityHeaderList({ widgetOrigins, https });

  app.use(requestContext(deps.logger));
  app.use(securityHeaders(headerList));
  app.use((req, _res, next) => {
    if (req.url.length > MAX_URL_LENGTH)
      return next(new AppError('uri_too_long', 'The request URL is too long.'));
    next();
  });

  // The popup comes back from the widget's origin to /callback and then /?verification=…; with a
  // COOP other than unsafe-none there, Chrome severs its link to the opener and it cannot report back.
  app.use((req, res, next) => {
    if (req.path === '/callback' || (req.path === '/' && req.query.verification !== undefined)) {
      res.setHeader('Cross-Origin-Opener-Policy', 'unsafe-none');
    }
    next();
  });
  app.use(healthRoutes(deps.checkReady));
  if (deps.integrator) app.use('/integrator/v1', deps.integrator);
  for (const router of deps.extraRoutes ?? []) app.use(router);
  // The demo page's files; API paths skip the file-system lookup (it was the top cost of a poll).
  const staticFiles = express.static(path.join(__dirname, '..', 'public'), {
    index: 'index.html',
    maxAge: 0,
  });
  app.use((req, res, next) => (req.path.startsWith('/api/') ? next() : staticFiles(req, res, next)));

  app.use('/api', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use('/api', csrfGuard(deps.allowedOrigins));
  app.use('/api', express.json({ limit: '16kb', strict: true, type: 'application/json' }));
  app.use(sessionMiddleware(deps.session, deps.sessionStore));

  const startLimits: RateRule[] = [
    {
      scope: 'start-session',
      limit: deps.rateLimits.startsPerSessionPerHour,
      windowMs: HOUR,
      subject: bySession,
    },
    { scope: 'start-ip', limit: deps.rateLimits.startsPerIpPerHour, windowMs: HOUR, subject: byIp },
  ];
  // Two budgets per address: callbacks a page can make browsers send without cookies must not use
  // up the budget of a person behind the same address coming back with a real session.
  const callbackLimits: RateRule[] = [
    {
      scope: 'callback-ip',
      limit: deps.rateLimits.callbacksPerIpPerMinute,
      windowMs: MINUTE,
      subject: byIpWithSession,
    },
    {
      scope: 'callback-ip-nosession',
      limit: deps.rateLimits.callbacksPerIpPerMinute,
      windowMs: MINUTE,
      subject: byIpWithoutSession,
    },
  ];
  app.use(
    verificationRoutes({
      verification: deps.verification,
      allowedOrigins: deps.allowedOrigins,
      startLimits,
    }),
  );
  app.use(callbackRoutes({ verification: deps.verification, returnUrl: deps.returnUrl, callbackLimits }));
  app.use(methodNotAllowed(ALLOWED_METHODS));

  app.use(browserErrorRedirect(deps.returnUrl));
  app.use(notFound());
  app.use(errorHandler(deps.verification.telemetry.storeError));

  const poll = createPollHandler({
    cookieName: deps.session.cookieName,
    secrets: deps.session.secrets,
    secureCookie: deps.session.secureCookie,
    store: deps.sessionStore,
    lifetimes: { idleMs: deps.session.ttlS * 1000, absoluteMs: deps.session.absoluteTtlS * 1000 },
    reader: deps.reader,
    waiting: deps.waiting,
    maxWaitS: deps.maxWaitS,
    securityHeaders: headerList,
    logger: deps.logger,
    onStoreError: deps.verification.telemetry.storeError,
  });
  // The front door: it only dispatches.
  return (req, res) => (isPoll(req) ? poll(req, res) : app(req, res));
}
