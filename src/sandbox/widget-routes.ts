import express, { Router, type Response } from 'express';
import { opaqueToken } from './opaque-token';
import type { ProviderVariants } from './sandbox-config';
import { LINK_TTL_MS, type LinkRecord, type SandboxState } from './sandbox-state';
import { WIDGET_CSS, WIDGET_EMBEDDED_JS, WIDGET_JS } from './widget-assets';
import { embeddedDonePage, messagePage, widgetPage, type CallbackMessage } from './widget-pages';

type Decision = 'approve' | 'cancel' | 'fail';

function isDecision(value: unknown): value is Decision {
  return value === 'approve' || value === 'cancel' || value === 'fail';
}

function sendHtml(res: Response, status: number, html: string, frameAncestors: string[]): void {
  const ancestors = frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'";
  // No form-action: browsers apply it to the redirect after the form post, which goes to the client's origin.
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'self'; img-src 'self' data:; base-uri 'none'; object-src 'none'; frame-ancestors ${ancestors}`,
  );
  res.removeHeader('X-Frame-Options');
  res.setHeader('Cache-Control', 'no-store');
  // The page URL carries the widget token; keep it out of Referer headers.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.status(status).type('html').send(html);
}

function sendAsset(res: Response, type: string, body: string): void {
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.type(type).send(body);
}

const unknownLink = messagePage(
  'Link not valid',
  'This widget link is unknown, expired or already used. Go back to the app and start again.',
);

function callbackUrl(
  link: LinkRecord,
  decision: Decision,
  code: string | undefined,
  cancelFlag: ProviderVariants['cancelFlag'],
): URL {
  const url = new URL(link.redirectUri);
  const query = url.searchParams;
  if (link.state !== undefined) query.set('state', link.state);
  query.set('success', decision === 'approve' ? 'true' : 'false');
  if (decision === 'cancel') query.set(cancelFlag, 'true');
  if (code !== undefined) query.set('code', code);
  query.set('flow_id', link.flowId);
  return url;
}

function callbackMessage(url: URL, shape: ProviderVariants['messageShape']): CallbackMessage {
  const query = Object.fromEntries(url.searchParams);
  if (shape === 'classic') return { location: url.toString(), query, url: `${url.origin}${url.pathname}` };
  // The newest docs: `link`, and flags as JSON booleans, `abort` always present.
  const flag = (name: string) => query[name] === 'true';
  const { cancel: _cancel, ...rest } = query;
  return {
    link: url.toString(),
    query: { ...rest, success: flag('success'), abort: flag('abort') || flag('cancel') },
  };
}

/** The widget a user would see at the provider, reduced to three decisions. */
export function createWidgetRoutes(state: SandboxState): Router {
  const router = Router();
  const html = (res: Response, status: number, body: string): void =>
    sendHtml(res, status, body, state.options().frameAncestors);

  router.get('/widget.js', (_req, res) => sendAsset(res, 'js', WIDGET_JS));
  router.get('/widget-embedded.js', (_req, res) => sendAsset(res, 'js', WIDGET_EMBEDDED_JS));
  router.get('/widget.css', (_req, res) => sendAsset(res, 'css', WIDGET_CSS));

  router.get('/widget', (req, res) => {
    const token = req.query.token;
    const link = typeof token === 'string' ? state.links.get(token) : undefined;
    if (typeof token !== 'string' || !link) {
      html(res, 404, unknownLink);
      return;
    }
    const { completeHost } = state.options().variants;
    const action = new URL('/widget/complete', `${req.protocol}://${req.get('host') ?? 'localhost'}`);
    if (completeHost) action.hostname = completeHost;
    html(res, 200, widgetPage(token, link, completeHost ? action.toString() : '/widget/complete'));
  });

  router.post('/widget/complete', express.urlencoded({ extended: false, limit: '8kb' }), (req, res) => {
    const body: Record<string, unknown> = (req.body as Record<string, unknown> | undefined) ?? {};
    if (!isDecision(body.decision)) {
      html(res, 400, messagePage('Bad request', 'The decision must be approve, cancel or fail.'));
      return;
    }
    // Taken synchronously: a link completes once, even when two submissions race.
    const link = typeof body.token === 'string' ? state.links.take(body.token) : undefined;
    if (!link) {
      html(res, 404, unknownLink);
      return;
    }
    let code: string | undefined;
    if (body.decision === 'approve') {
      const codeTtlMs = state.options().codeTtlS * 1000;
      code = opaqueToken(state.options().variants.codeLength);
      state.codes.set(code, { flowId: link.flowId, redirectUri: link.redirectUri }, codeTtlMs);
      const flow = state.flows.get(link.flowId);
      if (flow) state.flows.set(flow.flowId, flow, Math.max(LINK_TTL_MS, codeTtlMs));
    }
    const { cancelFlag, messageShape } = state.options().variants;
    const url = callbackUrl(link, body.decision, code, cancelFlag);
    if (body.embedded === '1') {
      html(res, 200, embeddedDonePage(callbackMessage(url, messageShape)));
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(302, url.toString());
  });

  return router;
}
