import { Router } from 'express';
import { AppError } from '../errors';
import { limitUrlLength, methodNotAllowed, sendError } from './error-handler';

/** Liveness says the process answers; readiness says it can serve users (the store answers in time). */
export function healthRoutes(checkReady: () => Promise<void>): Router {
  const router = Router();
  router
    .route('/healthz')
    .get(limitUrlLength, (_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json({ status: 'ok' });
    })
    .all(methodNotAllowed('GET, HEAD'));
  router
    .route('/readyz')
    .get(limitUrlLength, async (_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      try {
        await checkReady();
        res.json({ status: 'ready' });
      } catch (err) {
        sendError(
          res,
          err instanceof AppError
            ? err
            : new AppError('dependency_unavailable', 'Not ready', { cause: err, retryAfterS: 2 }),
        );
      }
    })
    .all(methodNotAllowed('GET, HEAD'));
  return router;
}
