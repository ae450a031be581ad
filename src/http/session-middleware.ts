import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session, { type Store } from 'express-session';
import { dependencyUnavailable } from '../errors';

declare module 'express-session' {
  interface SessionData {
    /** A random value bound to this browser; flows remember its hash so a callback must come from the same browser. It survives id regeneration. */
    owner: string;
    /** The verification this browser looks at (the one most recently started or completed). */
    verificationId: string;
  }
}

export interface SessionSettings {
  secrets: string[];
  ttlS: number;
  cookieName: string;
  secureCookie: boolean;
}

/**
 * The cookie is only an id: HttpOnly, SameSite=Lax (the widget's redirect back is a cross-site
 * top-level navigation, which Strict would strip), Secure with the __Host- prefix over https.
 * Sessions are written only when they change: no resave, no rolling, and the store does not touch
 * on every poll.
 */
export function sessionMiddleware(settings: SessionSettings, store: Store): RequestHandler {
  const handler = session({
    store,
    name: settings.cookieName,
    secret: settings.secrets,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: settings.secureCookie,
      path: '/',
      maxAge: settings.ttlS * 1000,
    },
  });
  return (req: Request, res: Response, next: NextFunction) =>
    handler(req, res, (err?: unknown) => next(err ? dependencyUnavailable(err) : undefined));
}

export function ownerOf(req: Request): string | undefined {
  return req.session?.owner;
}

export function ensureOwner(req: Request): string {
  req.session.owner ??= randomBytes(16).toString('base64url');
  return req.session.owner;
}

/** Saves now, so a store failure becomes a 503 answer instead of a lost write after the response. */
export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.save((err) => (err ? reject(dependencyUnavailable(err)) : resolve())),
  );
}

/** A new session id for the same data (after a completed verification), so an id seen before is worthless. */
export async function regenerateSession(req: Request): Promise<void> {
  const { owner, verificationId } = req.session;
  await new Promise<void>((resolve, reject) =>
    req.session.regenerate((err) => (err ? reject(dependencyUnavailable(err)) : resolve())),
  );
  if (owner) req.session.owner = owner;
  if (verificationId) req.session.verificationId = verificationId;
}
