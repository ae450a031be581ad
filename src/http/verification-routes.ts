import type { Request, Response } from 'express';
import { z } from 'zod';
import type { BrowserVerifications } from '../verification/browser-verifications';
import { assertSameSite } from './csrf-guard';
import type { RateLimiter } from './rate-limit';
import { parseInput, startInputSchema } from './input-schemas';
import { ensureOwner, newOwner, saveSession } from './session-middleware';

export interface StartDeps {
  verifications: Pick<BrowserVerifications, 'start' | 'forget'>;
  allowedOrigins: string[];
  /** Starts per session and per address. */
  limits: RateLimiter;
}

/** Starting and forgetting verifications: the handlers the navigation and API route groups mount. */
export function startHandlers(deps: StartDeps) {
  const start = async (req: Request, input: unknown) => {
    const parsed = parseStartInput(input);
    // Counted under the owner value this start will use, so a browser's first start counts too;
    // it joins the session only once the limits let the start through.
    const owner = req.session.owner ?? newOwner();
    await deps.limits.hit({ session: { owner }, ip: req.ip });
    ensureOwner(req, owner);
    const result = await deps.verifications.start({ owner, ...parsed });
    req.session.verificationId = result.verificationId;
    await saveSession(req);
    return result;
  };

  return {
    /**
     * GET /verification/start, a top-level navigation. Fetch Metadata refuses one started by
     * another site, so a foreign page cannot replace the verification this browser has in progress.
     */
    async navigate(req: Request, res: Response): Promise<void> {
      res.setHeader('Cache-Control', 'no-store');
      // A ticket is the proof of a lender's link, which may sit on any site, in an e-mail or an SMS.
      if (req.query.ticket === undefined) assertSameSite(req, deps.allowedOrigins);
      const { location } = await start(req, req.query);
      res.status(302).location(location).end();
    },

    /** POST /api/verification: the same for popup and iframe modes. */
    async create(req: Request, res: Response): Promise<void> {
      const { location, widgetOrigins } = await start(req, req.body ?? {});
      res.status(201).json({ status: 'awaiting_user', location, widgetOrigins });
    },

    /** DELETE /api/verification: forgets every verification this browser started. */
    async remove(req: Request, res: Response): Promise<void> {
      const id = req.session?.verificationId;
      const owner = req.session?.owner;
      if (id || owner) {
        await deps.verifications.forget(owner, id);
        // A new owner value on the next start: a flow of the old one that escaped the index (started
        // while this ran) can no longer pass the callback's owner check.
        delete req.session.verificationId;
        delete req.session.owner;
        await saveSession(req);
      }
      res.setHeader('Cache-Control', 'no-store');
      res.status(204).end();
    },
  };
}
export type StartHandlers = ReturnType<typeof startHandlers>;

function parseStartInput(input: unknown): z.infer<typeof startInputSchema> {
  return parseInput(startInputSchema, input, { ticket: ['ticket_invalid', 'This start link is not valid.'] });
}
