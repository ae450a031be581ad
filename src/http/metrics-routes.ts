import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Registry } from 'prom-client';
import { AppError } from '../errors';
import { sendError } from './error-handler';

/**
 * GET /metrics in Prometheus text format. With a token configured, only for `Authorization: Bearer <token>`.
 */
export function metricsRoutes(registry: Registry, token: string | undefined): Router {
  const router = Router();
  // Compared as SHA-256 digests: equal lengths always, so the time taken tells nothing, not even the length.
  const expected = token ? digest(`Bearer ${token}`) : undefined;
  router.get('/metrics', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (expected) {
      if (!timingSafeEqual(digest(req.get('authorization') ?? ''), expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        return sendError(res, new AppError('unauthorized', 'Metrics need the configured bearer token.'));
      }
    }
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
