import type { Request, Response } from 'express';
import type { z } from 'zod';
import { AppError } from '../errors';
import type { BrowserVerifications } from '../verification/browser-verifications';
import type { CallbackOutcome, CallbackParams } from '../verification/complete-callback';
import { returnLocation } from './return-location';
import { callbackBodySchema, callbackQuerySchema } from './input-schemas';
import type { RateLimiter } from './rate-limit';
import { ownerOf, regenerateSession, saveSession } from './session-middleware';

export interface CallbackDeps {
  verifications: Pick<BrowserVerifications, 'completeCallback'>;
  returnUrl: string;
  /** Callbacks per address, with and without a session. */
  limits: RateLimiter;
}

/** The widget's way back: a redirect to GET /callback, or (iframe mode) the page forwarding the query to POST. */
export function callbackHandlers(deps: CallbackDeps) {
  const handle = async (
    req: Request,
    schema: z.ZodType<CallbackParams>,
    input: unknown,
  ): Promise<CallbackOutcome> => {
    const parsed = schema.safeParse(input);
    if (!parsed.success)
      throw new AppError('invalid_callback', 'The callback parameters are missing or malformed.');
    const outcome = await deps.verifications.completeCallback(ownerOf(req), parsed.data);
    // Waiting polls learn of the change once this answer (with the renewed cookie) is out, or failed.
    if (outcome.status === 'processing') req.res?.once('close', () => void outcome.announce());
    req.session.verificationId = outcome.verificationId;
    // A completed verification gets a fresh session id: one seen before it is worth nothing now.
    if (outcome.status === 'processing') await regenerateSession(req);
    await saveSession(req);
    return outcome;
  };

  return {
    /** GET /callback: the browser is sent back to the return URL with the outcome. */
    async navigate(req: Request, res: Response): Promise<void> {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      await deps.limits.hit(req);
      const result = await handle(req, callbackQuerySchema, req.query);
      const outcome: Record<string, string> =
        result.status === 'processing'
          ? { verification: 'completed' }
          : result.status === 'cancelled'
            ? { verification: 'cancelled' }
            : { verification: 'failed', reason: result.error.code };
      // Only the configured return URL, with our own parameters: nothing from the request is reflected.
      // Errors, including a store outage before this handler runs, redirect too (redirectErrors).
      res.status(302).location(returnLocation(deps.returnUrl, outcome)).end();
    },

    /** POST /api/verification/callback: iframe mode, the page forwards the widget's message query. */
    async forward(req: Request, res: Response): Promise<void> {
      await deps.limits.hit(req);
      const outcome = await handle(req, callbackBodySchema, req.body);
      res
        .status(200)
        .json({ status: outcome.status, error: outcome.status === 'failed' ? outcome.error : null });
    },
  };
}
export type CallbackHandlers = ReturnType<typeof callbackHandlers>;
