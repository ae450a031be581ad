import express, { Router, type RequestHandler } from 'express';
import path from 'node:path';
import type { CallbackHandlers } from './callback-routes';
import { csrfGuard } from './csrf-guard';
import { limitUrlLength, methodNotAllowed, redirectErrors } from './error-handler';
import type { StartHandlers } from './verification-routes';

// The browser-facing route groups. Each owns its middleware and its error handling, so the app
// never asks "which route is this": adding a route is one line in its group. (GET
// /api/verification, the poll, is answered in front of Express by poll-handler.ts.)

/** The popup comes back from the widget's origin; with a COOP other than unsafe-none Chrome severs its link to the opener. */
const openerMayReturn: RequestHandler = (_req, res, next) => {
  res.setHeader('Cross-Origin-Opener-Policy', 'unsafe-none');
  next();
};

/**
 * Navigations (the browser's address bar is here): a session, and errors that send the browser back
 * to the page with `?verification=failed&reason=<code>` instead of showing it JSON.
 */
export function navigationRoutes(deps: {
  start: StartHandlers;
  callback: CallbackHandlers;
  session: RequestHandler;
  returnUrl: string;
}): Router {
  const router = Router();
  const navigating = redirectErrors(deps.returnUrl, (req) => req.get('sec-fetch-mode') === 'navigate');
  router
    .route('/verification/start')
    .get(limitUrlLength, deps.session, deps.start.navigate, navigating)
    .all(methodNotAllowed('GET, HEAD'));
  router
    .route('/callback')
    .get(
      limitUrlLength,
      openerMayReturn,
      deps.session,
      deps.callback.navigate,
      redirectErrors(deps.returnUrl),
    )
    .all(methodNotAllowed('GET, HEAD'));
  return router;
}

/** The page's JSON API under /api: no-store, the CSRF guard, a JSON body, a session. */
export function apiRoutes(deps: {
  start: StartHandlers;
  callback: CallbackHandlers;
  session: RequestHandler;
  allowedOrigins: string[];
}): Router {
  const router = Router();
  router.use(limitUrlLength, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use(csrfGuard(deps.allowedOrigins));
  router.use(express.json({ limit: '16kb', strict: true, type: 'application/json' }));
  router.use(deps.session);
  router
    .route('/verification')
    .post(deps.start.create)
    .delete(deps.start.remove)
    .all(methodNotAllowed('GET, HEAD, POST, DELETE'));
  router.route('/verification/callback').post(deps.callback.forward).all(methodNotAllowed('POST'));
  return router;
}

/** The demo page's files; `/?verification=…` is where the popup lands after the callback. */
export function pageRoutes(publicDir: string): Router {
  const router = Router();
  router.get('/', (req, res, next) =>
    req.query.verification === undefined ? next() : openerMayReturn(req, res, next),
  );
  router.use(express.static(path.resolve(publicDir), { index: 'index.html', maxAge: 0 }));
  return router;
}
