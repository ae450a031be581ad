import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { injectFaults, jsonBody, requireClientAuth, withLatency } from './api-middleware';
import { FinxCode, issuesOf, sendFinxError } from './finx-error';
import { opaqueToken } from './opaque-token';
import { LINK_TTL_MS, type SandboxState } from './sandbox-state';

export const widgetLanguages = ['de', 'en', 'es', 'fr', 'ar'] as const;

// Upper bounds are the sandbox's own: they keep a single request from making it generate huge reports.
const linkRequestSchema = z
  .strictObject({
    redirect_uri: z.url({ protocol: /^https?$/, error: 'redirect_uri must be an absolute http(s) URL' }),
    state: z.string().max(512).optional(),
    language: z.enum(widgetLanguages).default('de'),
    reporting_period: z.number().int().min(4).max(120).optional(),
    sync_period: z.number().int().min(1).max(3650).optional(),
    accounts: z
      .array(z.strictObject({ id: z.string().min(1).max(64) }))
      .max(20)
      .optional(),
    account_types: z.array(z.string().min(1).max(64)).max(20).optional(),
    allow_multi_selection: z.boolean().optional(),
    provider_id: z.string().min(1).max(128).optional(),
  })
  .refine((body) => body.reporting_period === undefined || body.sync_period === undefined, {
    message: 'reporting_period and sync_period are mutually exclusive',
    path: ['sync_period'],
  });

export type LinkRequest = z.infer<typeof linkRequestSchema>;

const DEFAULT_PERIOD_MONTHS = 12;

function periodMonths(body: LinkRequest): number {
  if (body.reporting_period !== undefined) return body.reporting_period;
  if (body.sync_period !== undefined) return Math.max(1, Math.ceil(body.sync_period / 30));
  return DEFAULT_PERIOD_MONTHS;
}

/** POST /onetime/income-report: creates a one-time widget link and its flow. */
export function createLinkRoutes(state: SandboxState, baseUrl: (req: Request) => string): Router {
  const router = Router();
  const reject = (): void => void state.counters.linksRejected++;

  router.post(
    '/onetime/income-report',
    withLatency(state),
    injectFaults(state, {
      scripted: () => 'link',
      random: 'link',
      onInjected: (_req, status) => {
        if (status < 400) state.counters.linksCreated++;
        else reject();
      },
    }),
    requireClientAuth(state, reject),
    jsonBody(reject),
    (req, res) => {
      const parsed = linkRequestSchema.safeParse(req.body);
      if (!parsed.success) {
        reject();
        const issues = issuesOf(parsed.error);
        sendFinxError(
          res,
          400,
          FinxCode.invalidRequest,
          'Invalid request',
          issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
          { issues },
        );
        return;
      }
      const body = parsed.data;
      const flowId = randomUUID();
      const widgetToken = opaqueToken(43);
      const months = periodMonths(body);
      state.links.set(
        widgetToken,
        {
          flowId,
          redirectUri: body.redirect_uri,
          state: body.state,
          language: body.language,
          periodMonths: months,
          accounts: (body.accounts ?? []).map((a) => a.id),
          accountTypes: body.account_types ?? [],
          allowMultiSelection: body.allow_multi_selection,
          providerId: body.provider_id,
        },
        LINK_TTL_MS,
      );
      state.flows.set(
        flowId,
        {
          flowId,
          redirectUri: body.redirect_uri,
          periodMonths: months,
          createdAt: state.now(),
          exchangedAt: undefined,
        },
        LINK_TTL_MS,
      );
      state.counters.linksCreated++;
      // The widget token is base64url, so it needs no escaping in the query.
      const widgetBase = new URL(baseUrl(req));
      const { widgetHost } = state.options().variants;
      if (widgetHost) widgetBase.hostname = widgetHost;
      const location = `${widgetBase.origin}${widgetBase.pathname.replace(/\/+$/, '')}/widget?token=${widgetToken}`;
      res.status(201).json({ location, id: flowId });
    },
  );
  return router;
}
