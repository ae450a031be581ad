import path from 'node:path';
import type { RequestListener } from 'node:http';
import express from 'express';
import type { Store } from 'express-session';
import type { Logger } from 'pino';
import type { Config } from './config';
import { callbackHandlers } from './http/callback-routes';
import { errorHandler, limitUrlLength, notFound } from './http/error-handler';
import { healthRoutes } from './http/health-routes';
import {
  byIp,
  byIpWithoutSession,
  byIpWithSession,
  bySession,
  rateLimiter,
  type RateCounter,
  type RateRule,
} from './http/rate-limit';
import { createPollHandler, isPoll } from './http/poll-handler';
import { requestContext } from './http/request-context';
import { apiRoutes, navigationRoutes, pageRoutes } from './http/route-groups';
import { securityHeaderList, securityHeaders } from './http/security-headers';
import { sessionMiddleware, type SessionSettings } from './http/session-middleware';
import { startHandlers } from './http/verification-routes';
import type { PollViews } from './http/poll-view';
import type { WaitingPolls } from './http/waiting-polls';
import type { BrowserVerifications } from './verification/browser-verifications';

export interface AppDeps {
  logger: Logger;
  /** Start, callback and delete, bound to their collaborators in the composition root. */
  verifications: BrowserVerifications;
  /** The poll's answers (built once per state). */
  views: PollViews;
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
  /** Fixed-window counters in the shared store. */
  countRate: RateCounter;
  /** Origins the widget may run on (framing, postMessage). */
  widgetOrigins: string[];
  /** Counts an answer that failed because the store did not answer. */
  onStoreError: () => void;
  checkReady: () => Promise<void>;
  /** The lender's API, mounted at /integrator/v1 ahead of sessions and the CSRF guard; absent when off. */
  integrator?: express.Router | undefined;
  /** Extra routes mounted before the API (metrics, OpenAPI). */
  extraRoutes?: express.Router[];
}

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

  const headerList = securityHeaderList({
    widgetOrigins: deps.widgetOrigins,
    https: deps.session.secureCookie,
  });

  app.use(requestContext(deps.logger));
  app.use(securityHeaders(headerList));
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
  const start = startHandlers({
    verifications: deps.verifications,
    allowedOrigins: deps.allowedOrigins,
    limits: rateLimiter(deps.countRate, startLimits),
  });
  const callback = callbackHandlers({
    verifications: deps.verifications,
    returnUrl: deps.returnUrl,
    limits: rateLimiter(deps.countRate, callbackLimits),
  });
  const session = sessionMiddleware(deps.session, deps.sessionStore);

  // Each route group owns its middleware and errors (src/http/README.md has the order and why).
  app.use(healthRoutes(deps.checkReady));
  if (deps.integrator) app.use('/integrator/v1', deps.integrator);
  for (const router of deps.extraRoutes ?? []) app.use(router);
  app.use(navigationRoutes({ start, callback, session, returnUrl: deps.returnUrl }));
  app.use('/api', apiRoutes({ start, callback, session, allowedOrigins: deps.allowedOrigins }));
  app.use(limitUrlLength);
  app.use(pageRoutes(path.join(__dirname, '..', 'public')));
  app.use(notFound());
  app.use(errorHandler(deps.onStoreError));

  const poll = createPollHandler({
    cookieName: deps.session.cookieName,
    secrets: deps.session.secrets,
    secureCookie: deps.session.secureCookie,
    store: deps.sessionStore,
    lifetimes: { idleMs: deps.session.ttlS * 1000, absoluteMs: deps.session.absoluteTtlS * 1000 },
    views: deps.views,
    waiting: deps.waiting,
    maxWaitS: deps.maxWaitS,
    securityHeaders: headerList,
    logger: deps.logger,
    onStoreError: deps.onStoreError,
  });
  // The front door: it only dispatches.
  return (req, res) => (isPoll(req) ? poll(req, res) : app(req, res));
}
