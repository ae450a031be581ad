import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../errors';
import { createApiKeyCheck } from '../integrator/api-keys';
import type { createIdempotency } from '../integrator/idempotency';
import type { LenderVerifications } from '../integrator/lender-verifications';
import type { WebhookAdmin } from '../integrator/webhook-admin';
import { createVerificationSchema, parseInput, referenceSchema } from './input-schemas';
import { methodNotAllowed, sendError } from './error-handler';
import { rateLimiter, type RateCounter } from './rate-limit';

declare module 'express-serve-static-core' {
  interface Locals {
    keyId?: string;
  }
}

export interface IntegratorRouteDeps {
  apiKeys: string[];
  perKeyPerMinute: number;
  /** The shared store's fixed-window counters (the per-key limit holds across instances). */
  countRate: RateCounter;
  lender: LenderVerifications;
  idempotency: ReturnType<typeof createIdempotency>;
  webhooks: WebhookAdmin;
  /** Counts requests by route and status. */
  observe(route: string, status: number): void;
}

const ID = /^ver_[A-Za-z0-9_-]{22}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const WEBHOOK_ID = /^msg_[0-9A-Z]{26}$/;
const CURSOR = /^\d{1,16}$/;

/**
 * The lender's server-to-server API under /integrator/v1: JSON, bearer key, no cookies, no session,
 * no CSRF guard, no CORS. Mounted only when INTEGRATOR_API_KEYS is set.
 */
export function integratorRoutes(deps: IntegratorRouteDeps): Router {
  const router = Router({ strict: false });
  const check = createApiKeyCheck(deps.apiKeys);
  const json = express.json({ limit: '16kb', strict: true, type: () => true });

  router.use((req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.on('finish', () => deps.observe(routeOf(req), res.statusCode));
    const header = req.get('authorization');
    const presented = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const keyId = check(presented);
    if (!keyId) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(
        res,
        new AppError('unauthorized', 'A valid API key is required (Authorization: Bearer <key>).'),
      );
    }
    res.locals.keyId = keyId;
    res.locals.log = res.locals.log.child({ keyId });
    next();
  });
  const perKey = rateLimiter(deps.countRate, [
    { scope: 'integrator', limit: deps.perKeyPerMinute, windowMs: 60_000, subject: (s) => s.apiKeyId },
  ]);
  router.use(async (_req, res, next) => {
    await perKey.hit({ apiKeyId: res.locals.keyId });
    next();
  });
  const jsonBody = (req: Request, res: Response, next: NextFunction) => {
    const type = req.get('content-type') ?? '';
    if (!/^application\/json\s*(;\s*charset=utf-8\s*)?$/i.test(type))
      return sendError(
        res,
        new AppError('unsupported_media_type', 'Send the body as application/json (UTF-8).'),
      );
    json(req, res, next);
  };

  router
    .route('/verifications')
    .post(jsonBody, async (req, res) => {
      const input = parseInput(
        createVerificationSchema,
        req.body,
        FIELD_ERRORS,
        'The request body is not valid.',
      );
      const idempotencyKey = req.get('idempotency-key');
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey))
        throw new AppError('invalid_request', 'Idempotency-Key must be 1 to 255 printable ASCII characters.');
      const answer = await deps.idempotency(idempotencyKey, req.body, async () => ({
        status: 201,
        body: await deps.lender.create(input),
      }));
      if (answer.replayed) res.setHeader('Idempotent-Replayed', 'true');
      res.status(answer.status).json(answer.body);
    })
    .get(async (req, res) => {
      const keys = Object.keys(req.query);
      if (keys.length !== 1 || keys[0] !== 'reference')
        throw new AppError('invalid_request', 'Give exactly one query parameter: reference.');
      const reference = parseInput(referenceSchema, req.query.reference, { '': FIELD_ERRORS.reference });
      res.json({ items: await deps.lender.list(reference) });
    })
    .all(methodNotAllowed('GET, POST'));

  router
    .route('/verifications/:id')
    .get(async (req, res) => {
      res.json(await deps.lender.read(idOf(req)));
    })
    .delete(async (req, res) => {
      await deps.lender.remove(idOf(req));
      res.status(204).end();
    })
    .all(methodNotAllowed('GET, DELETE'));

  router
    .route('/verifications/:id/report')
    .get(async (req, res) => {
      const report = await deps.lender.report(idOf(req), res.locals.keyId as string);
      res.type('application/json').send(report);
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/verifications/:id/report-refresh')
    .post(async (req, res) => {
      res.status(202).json(await deps.lender.refreshReport(idOf(req)));
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/webhook-deliveries')
    .get(async (req, res) => {
      const query = onlyQuery(req, ['status', 'limit']);
      if (query.status !== 'failed')
        throw new AppError('invalid_request', 'Give status=failed (dead letters are what this lists).');
      res.json(await deps.webhooks.failed(limitOf(query.limit)));
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/webhook-deliveries/:webhookId/redeliver')
    .post(async (req, res) => {
      const id = req.params.webhookId;
      if (typeof id !== 'string' || !WEBHOOK_ID.test(id))
        throw new AppError('not_found', 'No webhook event with this id.');
      onlyQuery(req, []);
      res.status(202).json(await deps.webhooks.redeliver(id));
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/events')
    .get(async (req, res) => {
      const query = onlyQuery(req, ['after', 'limit']);
      if (query.after !== undefined && !CURSOR.test(query.after))
        throw new AppError('invalid_request', 'after must be a cursor from an earlier answer (its "next").');
      res.json(await deps.webhooks.events(query.after, limitOf(query.limit)));
    })
    .all(methodNotAllowed('GET'));

  router.use((_req, res) => sendError(res, new AppError('not_found', 'No such endpoint.')));
  return router;
}

function idOf(req: Request): string {
  const id = req.params.id;
  if (typeof id !== 'string' || !ID.test(id))
    throw new AppError('not_found', 'No verification with this id.');
  if (Object.keys(req.query).length > 0)
    throw new AppError('invalid_request', 'This endpoint takes no query parameters.');
  return id;
}

/** The query as single strings, refusing unknown or repeated parameters. */
function onlyQuery(req: Request, allowed: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.query)) {
    if (!allowed.includes(name))
      throw new AppError(
        'invalid_request',
        allowed.length
          ? `Unknown query parameter; this endpoint takes ${allowed.join(', ')}.`
          : 'This endpoint takes no query parameters.',
      );
    if (typeof value !== 'string') throw new AppError('invalid_request', 'Give each query parameter once.');
    out[name] = value;
  }
  return out;
}

const FIELD_ERRORS = {
  reference: ['invalid_request', 'reference must be 1 to 64 of A-Z a-z 0-9 . _ : -'],
  access: ['invalid_request', 'access must be one_time or ongoing.'],
} as const;

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 100;
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 500)
    throw new AppError('invalid_request', 'limit must be 1 to 500.');
  return Number(raw);
}

/** The route pattern (not the id) for metrics. */
function routeOf(req: Request): string {
  const route = (req.route as { path?: string } | undefined)?.path;
  return route ? `/integrator/v1${route}` : 'unmatched';
}
