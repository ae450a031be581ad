import { createHash, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { defaultErrorForStatus, FinxCode, sendFinxError } from './finx-error';
import type { FaultEndpoint } from './sandbox-config';
import type { SandboxState, ScriptedEndpoint, ScriptedResponse } from './sandbox-state';

/** Delays every API call by the configured latency, read per call so `configure` applies at once. */
export function withLatency(state: SandboxState): RequestHandler {
  return async (_req, _res, next) => {
    const ms = state.options().latencyMs;
    if (ms > 0) await sleep(ms);
    next();
  };
}

function sendInjected(res: Response, status: number, body: unknown, retryAfterS: number | undefined): void {
  const retryAfter = retryAfterS ?? (status === 429 || status === 503 ? 1 : undefined);
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  if (status === 204 || status === 304) {
    res.status(status).end();
    return;
  }
  res.status(status).json(body ?? (status >= 400 ? defaultErrorForStatus(status) : {}));
}

export interface FaultInjection {
  /** Which script queue applies; the token endpoint decides by grant type. */
  scripted: (req: Request) => ScriptedEndpoint | undefined;
  random: FaultEndpoint;
  /** Told the status of every injected answer, for the stats. */
  onInjected: (req: Request, status: number) => void;
}

/**
 * Scripted answers first (deterministic), then random faults. Either way the call is answered
 * instead of processed, so an injected failure never consumes a code or rotates a token.
 */
export function injectFaults(state: SandboxState, injection: FaultInjection): RequestHandler {
  return async (req, res, next) => {
    const endpoint = injection.scripted(req);
    const scripted: ScriptedResponse | undefined = endpoint ? state.nextScripted(endpoint) : undefined;
    if (scripted) {
      if (scripted.delayMs) await sleep(scripted.delayMs);
      if (scripted.status !== 0) {
        injection.onInjected(req, scripted.status);
        sendInjected(res, scripted.status, scripted.body, scripted.retryAfterS);
        return;
      }
    }
    const fault = state.options().faults[injection.random];
    if (fault.failureRate > 0 && Math.random() < fault.failureRate) {
      injection.onInjected(req, fault.failureStatus);
      sendInjected(res, fault.failureStatus, undefined, undefined);
      return;
    }
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** HTTP Basic with the client credentials, as on POST /onetime/income-report and POST /auth/token. */
export function requireClientAuth(state: SandboxState, onReject: (req: Request) => void): RequestHandler {
  return (req, res, next) => {
    const given = basicCredentials(req.headers.authorization);
    const { clientId, clientSecret } = state.options();
    // Both comparisons always run so the answer time does not tell which part was wrong.
    const idOk = sameSecret(given?.id ?? '', clientId);
    const secretOk = sameSecret(given?.secret ?? '', clientSecret);
    if (given && idOk && secretOk) {
      next();
      return;
    }
    onReject(req);
    res.setHeader('WWW-Authenticate', 'Basic realm="finx"');
    sendFinxError(
      res,
      401,
      FinxCode.invalidClientAuthorization,
      'Invalid client authorization',
      given ? 'The client credentials are wrong' : 'HTTP Basic client authorization is required',
    );
  };
}

export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

const parseJson = express.json({ limit: '64kb' });

/** express.json, but a malformed body becomes a finX error here so the endpoint can count it. */
export function jsonBody(onReject: (req: Request) => void): RequestHandler {
  return (req, res, next) => {
    parseJson(req, res, (err?: unknown) => {
      if (err === undefined || err === null) {
        next();
        return;
      }
      onReject(req);
      const status = (err as { status?: unknown }).status;
      sendFinxError(
        res,
        typeof status === 'number' && status >= 400 && status < 500 ? status : 400,
        FinxCode.invalidRequest,
        'Invalid request',
        'The request body is not valid JSON',
      );
    });
  };
}
