// The three ways the provider's widget runs (full page, popup, iframe overlay) and the way back.
import { isObject, safeCode } from './values.js';

export const POPUP_NAME = 'finx-widget';
export const MESSAGE_TYPE = 'finx-verification';
// Every key the provider documents for the widget's message query (`abort` is the newest docs' `cancel`).
const CALLBACK_KEYS = ['state', 'success', 'cancel', 'abort', 'code', 'flow_id'];
export const OUTCOMES = new Set(['completed', 'cancelled', 'failed']);

/**
 * The callback query in a message from the widget (iframe mode), or null when the message is not
 * its completion. Both documented shapes ({ location, query, url } and { link, query }) carry
 * `query`; flags may be strings or booleans. Pure: the caller has checked origin and source.
 */
export function callbackQueryOf(data) {
  let message = data;
  if (typeof message === 'string') {
    try {
      message = JSON.parse(message);
    } catch {
      return null;
    }
  }
  if (!isObject(message) || !isObject(message.query)) return null;
  const query = {};
  for (const key of CALLBACK_KEYS) {
    const value = message.query[key];
    if (typeof value === 'string') query[key] = value;
    else if (typeof value === 'boolean' || typeof value === 'number') query[key] = String(value);
  }
  return 'state' in query || 'success' in query ? query : null;
}

/** The outcome in `?verification=…&reason=…` (then removed from the address bar), or null. */
export function takeReturnParams() {
  const params = new URLSearchParams(location.search);
  if (!params.has('verification')) return null;
  const outcome = params.get('verification');
  const reason = params.get('reason');
  params.delete('verification');
  params.delete('reason');
  const query = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
  return { outcome: OUTCOMES.has(outcome) ? outcome : 'failed', reason: safeCode(reason) };
}

/** Is this page the end of a popup or iframe flow started by another page of ours? */
export function returnTarget() {
  try {
    if (
      window.opener &&
      window.opener !== window &&
      window.name === POPUP_NAME &&
      window.opener.location.origin === location.origin
    ) {
      return { win: window.opener, kind: 'popup' };
    }
  } catch {
    // cross-origin opener: not ours
  }
  try {
    if (window.parent !== window && window.parent.location.origin === location.origin) {
      return { win: window.parent, kind: 'frame' };
    }
  } catch {
    // cross-origin parent: not ours
  }
  return null;
}

/** A popup must be opened synchronously inside the click, before any await, or blockers step in. */
export function openBlankPopup(text) {
  const popup = window.open('', POPUP_NAME, 'width=480,height=720');
  if (!popup) return null;
  try {
    const doc = popup.document;
    doc.title = text;
    const p = doc.createElement('p');
    p.textContent = text;
    doc.body.replaceChildren(p);
  } catch {
    // A reused window may already show another origin; it is navigated anyway.
  }
  return popup;
}

/** The widget URL from the start answer, with the origins its messages may come from. */
export function widgetUrlOf(data, base = location.href) {
  const target = isObject(data) && typeof data.location === 'string' ? data.location : null;
  let url = null;
  try {
    url = target ? new URL(target, base) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return null;
  // The widget may post from another of the provider's hosts than the one it started on.
  const listed = isObject(data) && Array.isArray(data.widgetOrigins) ? data.widgetOrigins : [];
  return { href: url.href, origins: [url.origin, ...listed.filter((o) => typeof o === 'string')] };
}
