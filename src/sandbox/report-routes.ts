import { Router, type Request, type RequestHandler } from 'express';
import { bearerToken, injectFaults, withLatency } from './api-middleware';
import { FinxCode, sendFinxError } from './finx-error';
import { buildIncomeReport } from './income-report';
import type { SandboxState } from './sandbox-state';

/** GET /rest/income-reports/{id}: the report of a flow, readable with that flow's access token. */
export function createReportRoutes(state: SandboxState): Router {
  const router = Router();
  const fetches = state.counters.reportFetches;

  // Only the path the `reportPath` variant names exists; the other is an unknown endpoint (404 code
  // 1002), which is exactly what a server configured with the wrong path sees.
  const servedAs =
    (variant: 'path' | 'query'): RequestHandler =>
    (_req, _res, next) =>
      next(state.options().variants.reportPath === variant ? undefined : 'router');
  const idOf = (req: Request, grantFlowId: string): string | undefined => {
    if (typeof req.params.id === 'string') return req.params.id;
    const id = req.query.id;
    if (id === undefined) return grantFlowId;
    return typeof id === 'string' ? id : undefined;
  };

  router.get(
    ['/rest/income-reports/:id', '/rest/income-report'],
    (req, res, next) => servedAs(req.params.id === undefined ? 'query' : 'path')(req, res, next),
    withLatency(state),
    injectFaults(state, {
      scripted: () => 'report',
      random: 'report',
      onInjected: (_req, status) => {
        fetches.total++;
        if (status < 400) fetches.ready++;
        else fetches.failed++;
      },
    }),
    (req, res) => {
      fetches.total++;
      const token = bearerToken(req.headers.authorization);
      const grant = token ? state.accessTokens.get(token) : undefined;
      if (!grant) {
        fetches.unauthorized++;
        res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
        sendFinxError(
          res,
          401,
          FinxCode.unauthorized,
          'Unauthorized',
          'The access token is missing, unknown, expired or revoked',
        );
        return;
      }
      const id = idOf(req, grant.flowId);
      const flow = typeof id === 'string' ? state.flows.get(id) : undefined;
      if (!flow) {
        fetches.failed++;
        sendFinxError(res, 404, FinxCode.notFound, 'Not found', 'No income report with this id');
        return;
      }
      if (grant.flowId !== flow.flowId) {
        fetches.failed++;
        sendFinxError(
          res,
          403,
          FinxCode.forbidden,
          'Forbidden',
          'The access token does not grant this report',
        );
        return;
      }
      const readyAt = (flow.exchangedAt ?? state.now()) + state.options().reportDelayMs;
      if (flow.exchangedAt === undefined || state.now() < readyAt) {
        // The provider documents no pending state; 404 with code 1002 is what a client must tolerate.
        fetches.notReady++;
        sendFinxError(res, 404, FinxCode.notFound, 'Not found', 'No income report with this id');
        return;
      }
      fetches.ready++;
      res.setHeader('Cache-Control', 'no-store');
      // With `newerReportEachFetch` every fetch moves the report one booking month on, as if a month had passed.
      const served = flow.reportsServed ?? 0;
      flow.reportsServed = served + 1;
      const asOf = new Date(flow.createdAt);
      if (state.options().newerReportEachFetch) asOf.setUTCMonth(asOf.getUTCMonth() + served);
      const report = buildIncomeReport(flow.flowId, flow.periodMonths, asOf);
      if (state.servedReports.size >= 1000) state.servedReports.clear();
      state.servedReports.set(flow.flowId, report);
      res.status(200).json(report);
    },
  );
  return router;
}
