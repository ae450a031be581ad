// Readers for untrusted values (server answers, the address bar, postMessage): pure, no DOM.

export function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function obj(value) {
  return isObject(value) ? value : null;
}

export function str(value) {
  return typeof value === 'string' && value.trim() ? value.trim() : null;
}

export function num(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

/** A code fit to look up and show: from the address bar or a message it is attacker-controlled. */
export function safeCode(value) {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value.toLowerCase() : null;
}

export function safeRequestId(value) {
  return typeof value === 'string' && /^[\x21-\x7e]{1,128}$/.test(value) ? value : null;
}

/** The sum of the monthly averages of a list of expense groups; null when none has one. */
export function sumAverages(list) {
  if (!Array.isArray(list)) return null;
  if (list.length === 0) return 0;
  let total = 0;
  let found = false;
  for (const item of list) {
    const summary = obj(obj(item) && item.summary);
    const average = num(summary && summary.average);
    if (average !== null) {
      total += average;
      found = true;
    }
  }
  // Round to cents so 0.1 + 0.2 style artefacts do not leak into data-value.
  return found ? Math.round(total * 100) / 100 : null;
}

export const POLL_DEFAULT_S = 2;
const POLL_MIN_S = 0.5;
export const POLL_MAX_S = 10;

/**
 * Retry-After (seconds or an HTTP date) as seconds within the page's bounds; `fallback` when absent.
 * @param {{ get(name: string): string | null } | null | undefined} headers
 * @param {number | null} [fallback]
 * @param {number} [now]
 */
export function retryAfterSeconds(headers, fallback = POLL_DEFAULT_S, now = Date.now()) {
  const raw = headers ? headers.get('Retry-After') : null;
  let seconds = fallback;
  if (raw && raw.trim()) {
    const n = Number(raw.trim());
    if (Number.isFinite(n)) seconds = n;
    else if (!Number.isNaN(Date.parse(raw))) seconds = (Date.parse(raw) - now) / 1000;
  }
  if (seconds === null) return null;
  return Math.min(POLL_MAX_S, Math.max(POLL_MIN_S, seconds));
}

/** A typed IBAN, normalised, or the key of what is wrong with it (messages.js has the texts). */
export function checkIban(raw) {
  const iban = String(raw).replace(/\s+/g, '').toUpperCase();
  if (!iban) return { iban: '' };
  if (!/^[A-Z]{2}/.test(iban)) return { problem: 'iban.country' };
  if (!/^[A-Z]{2}[0-9]{2}/.test(iban)) return { problem: 'iban.check' };
  if (!/^[A-Z0-9]+$/.test(iban)) return { problem: 'iban.chars' };
  if (iban.length < 15 || iban.length > 34) return { problem: 'iban.length', n: iban.length };
  return { iban };
}
