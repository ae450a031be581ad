import { Router } from 'express';
import { AppError } from '../errors';
import { sendError } from './error-handler';

/** Liveness says the process answers; readiness says it can serve users (the store answers in time). */
export function healthRoutes(checkReady: () => Promise<void>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
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
  });
  return router;
}
