import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { injectFaults, jsonBody, requireClientAuth, withLatency } from './api-middleware';
import { FinxCode, sendFinxError } from './finx-error';
import { opaqueToken } from './opaque-token';
import type { SandboxState, ScriptedEndpoint } from './sandbox-state';

const SCOPE = 'accounts=ro balances=ro transactions=ro offline';

const codeGrantSchema = z.object({ code: z.string().min(1), redirect_uri: z.string().min(1) });
const refreshGrantSchema = z.object({ refresh_token: z.string().min(1) });

type Grant = 'authorization_code' | 'refresh_token';

function grantOf(req: Request): Grant | undefined {
  const grant: unknown = (req.body as { grant_type?: unknown } | undefined)?.grant_type;
  return grant === 'authorization_code' || grant === 'refresh_token' ? grant : undefined;
}

function scriptQueueOf(req: Request): ScriptedEndpoint | undefined {
  const grant = grantOf(req);
  if (grant === 'authorization_code') return 'token';
  if (grant === 'refresh_token') return 'refresh';
  return undefined;
}

function invalidGrant(res: Response, description: string): void {
  sendFinxError(res, 400, FinxCode.invalidRequest, 'invalid_grant', description);
}

function invalidRequest(res: Response, description: string): void {
  sendFinxError(res, 400, FinxCode.invalidRequest, 'invalid_request', description);
}

/** POST /auth/token: the authorization_code and refresh_token grants, with refresh token rotation. */
export function createTokenRoutes(state: SandboxState): Router {
  const router = Router();

  const countRejected = (req: Request): void => {
    const grant = grantOf(req);
    if (grant === 'authorization_code') state.counters.codeExchangesRejected++;
    else if (grant === 'refresh_token') state.counters.refreshesRejected++;
  };
  const countAccepted = (grant: Grant): void => {
    if (grant === 'authorization_code') state.counters.codeExchanges++;
    else state.counters.refreshes++;
  };

  /**
   * Issues a fresh pair bound to the flow and keeps the flow alive as long as its tokens. The refresh
   * token dies unused after `refreshTokenTtlS` (the inactivity limit) and never outlives the grant.
   */
  function issueTokens(res: Response, flowId: string, grantEndsAt: number): void {
    const { accessTokenTtlS, refreshTokenTtlS } = state.options();
    const accessToken = opaqueToken(80, 200);
    const refreshToken = opaqueToken(40, 120);
    state.accessTokens.set(accessToken, { flowId, refreshToken }, accessTokenTtlS * 1000);
    const refreshTtlMs = Math.min(refreshTokenTtlS * 1000, grantEndsAt - state.now());
    state.refreshTokens.set(refreshToken, { flowId, accessToken, grantEndsAt }, refreshTtlMs);
    const flow = state.flows.get(flowId);
    if (flow) state.flows.set(flowId, flow, Math.max(accessTokenTtlS, refreshTokenTtlS) * 1000);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    const expiresIn = state.options().variants.tokenExpiresIn;
    res.status(200).json({
      access_token: accessToken,
      token_type: 'Bearer',
      ...(expiresIn === 'absent'
        ? {}
        : { expires_in: expiresIn === 'string' ? String(accessTokenTtlS) : accessTokenTtlS }),
      refresh_token: refreshToken,
      scope: SCOPE,
    });
  }

  function exchangeCode(req: Request, res: Response): void {
    const parsed = codeGrantSchema.safeParse(req.body);
    if (!parsed.success) {
      state.counters.codeExchangesRejected++;
      invalidRequest(res, 'code and redirect_uri are required strings');
      return;
    }
    // Taken before anything else and synchronously: a code works once, even under concurrent
    // exchanges, and a failed attempt (wrong redirect_uri) burns it as well.
    const record = state.codes.take(parsed.data.code);
    const flow = record ? state.flows.get(record.flowId) : undefined;
    if (!record || !flow || record.redirectUri !== parsed.data.redirect_uri) {
      state.counters.codeExchangesRejected++;
      invalidGrant(
        res,
        record && record.redirectUri !== parsed.data.redirect_uri
          ? 'redirect_uri does not match the one the link was created with'
          : 'The authorization code is unknown, expired or already used',
      );
      return;
    }
    flow.exchangedAt = state.now();
    countAccepted('authorization_code');
    issueTokens(res, flow.flowId, state.now() + state.options().grantLifetimeS * 1000);
  }

  function refresh(req: Request, res: Response): void {
    const parsed = refreshGrantSchema.safeParse(req.body);
    if (!parsed.success) {
      state.counters.refreshesRejected++;
      invalidRequest(res, 'refresh_token is required');
      return;
    }
    const record = state.refreshTokens.take(parsed.data.refresh_token);
    if (!record || !state.flows.get(record.flowId) || state.now() >= record.grantEndsAt) {
      state.counters.refreshesRejected++;
      invalidGrant(res, 'The refresh token is unknown, expired, revoked or already replaced');
      return;
    }
    // Rotation: the old pair dies with the refresh.
    state.accessTokens.delete(record.accessToken);
    countAccepted('refresh_token');
    issueTokens(res, record.flowId, record.grantEndsAt);
  }

  // Revocation exists in older finX APIs (docs/finx-api.md: its current existence is unknown); the
  // sandbox offers it so the server's optional call can be tested. Revoking either token of a
  // pair revokes both; an unknown token is not an error (RFC 7009).
  router.post(
    '/auth/revoke',
    withLatency(state),
    jsonBody(() => undefined),
    requireClientAuth(state, () => undefined),
    (req, res) => {
      const token = (req.body as { token?: unknown } | undefined)?.token;
      if (typeof token !== 'string' || token === '') {
        invalidRequest(res, 'token is required');
        return;
      }
      const refresh = state.refreshTokens.take(token);
      const access = state.accessTokens.get(token);
      if (refresh) state.accessTokens.delete(refresh.accessToken);
      if (access) {
        state.accessTokens.delete(token);
        state.refreshTokens.delete(access.refreshToken);
      }
      if (refresh || access) state.counters.revocations++;
      res.status(200).json({});
    },
  );

  router.post(
    '/auth/token',
    withLatency(state),
    jsonBody(countRejected),
    injectFaults(state, {
      scripted: scriptQueueOf,
      random: 'token',
      onInjected: (req, status) => {
        const grant = grantOf(req);
        if (status >= 400) countRejected(req);
        else if (grant) countAccepted(grant);
      },
    }),
    requireClientAuth(state, countRejected),
    (req, res) => {
      const grant = grantOf(req);
      if (grant === 'authorization_code') exchangeCode(req, res);
      else if (grant === 'refresh_token') refresh(req, res);
      else
        sendFinxError(
          res,
          400,
          FinxCode.invalidRequest,
          'unsupported_grant_type',
          'grant_type must be authorization_code or refresh_token',
        );
    },
  );
  return router;
}
