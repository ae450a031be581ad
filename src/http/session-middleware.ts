import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session, { type Store } from 'express-session';
import { dependencyUnavailable } from '../errors';
import { needsRenewal, pastAbsoluteLifetime } from './session-lifetime';

declare module 'express-session' {
  interface SessionData {
    /** A random value bound to this browser; flows remember its hash so a callback must come from the same browser. It survives id regeneration. */
    owner: string;
    /** The verification this browser looks at (the one most recently started or completed). */
    verificationId: string;
    /** When this browser's session began; past the absolute lifetime it ends, however active. */
    createdAt: number;
    /** Last time the idle lifetime was renewed. */
    renewedAt: number;
  }
}

export interface SessionSettings {
  secrets: string[];
  /** Idle lifetime: renewed by activity, at most once per quarter of it. */
  ttlS: number;
  absoluteTtlS: number;
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
  const idleMs = settings.ttlS * 1000;
  const absoluteMs = settings.absoluteTtlS * 1000;
  return (req: Request, res: Response, next: NextFunction) =>
    handler(req, res, (err?: unknown) => {
      if (err) return next(dependencyUnavailable(err));
      const data = req.session;
      if (data?.owner) {
        const now = Date.now();
        if (pastAbsoluteLifetime(data, now, absoluteMs)) {
          // Past its absolute lifetime: the browser starts over with no session.
          return req.session.destroy((destroyErr) =>
            next(destroyErr ? dependencyUnavailable(destroyErr) : undefined),
          );
        }
        // A poll does not write the session; an active one is renewed only now and then, which
        // saves it (and resends the cookie) with a fresh idle lifetime.
        if (needsRenewal(data, now, idleMs, absoluteMs)) data.renewedAt = now;
      }
      next();
    });
}

export function ownerOf(req: Request): string | undefined {
  return req.session?.owner;
}

/** A fresh owner value: 128 random bits. */
export function newOwner(): string {
  return randomBytes(16).toString('base64url');
}

/** The session's owner value; a new session takes `candidate` (or a fresh one). */
export function ensureOwner(req: Request, candidate: string = newOwner()): string {
  if (!req.session.owner) {
    req.session.owner = candidate;
    req.session.createdAt = Date.now();
    req.session.renewedAt = Date.now();
  }
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
  const { owner, verificationId, createdAt } = req.session;
  await new Promise<void>((resolve, reject) =>
    req.session.regenerate((err) => (err ? reject(dependencyUnavailable(err)) : resolve())),
  );
  if (owner) req.session.owner = owner;
  if (verificationId) req.session.verificationId = verificationId;
  if (createdAt) req.session.createdAt = createdAt;
  req.session.renewedAt = Date.now();
}
