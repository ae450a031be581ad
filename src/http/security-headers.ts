import type { RequestHandler } from 'express';

export interface SecurityHeaderSettings {
  /** Origins the widget may be framed from and forms posted to. */
  widgetOrigins: string[];
  /** Served over https: HSTS and upgrade-insecure-requests. */
  https: boolean;
}

/** A header list as node's `writeHead` takes it: name, value, name, value… */
export type FlatHeaders = string[];

/**
 * The security headers on every answer, as one list: the Express middleware and the poll handler
 * both set exactly this list (the values helmet 8 sets with the options this project used, written
 * out so there is nothing to capture or fake).
 */
export function securityHeaderList(settings: SecurityHeaderSettings): FlatHeaders {
  const { widgetOrigins, https } = settings;
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-src ${widgetOrigins.join(' ')}`,
    `form-action 'self'${widgetOrigins.map((o) => ` ${o}`).join('')}`,
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    ...(https ? ['upgrade-insecure-requests'] : []),
  ].join(';');
  return [
    'Content-Security-Policy',
    csp,
    // The popup mode needs the opener link to survive the trip through the widget's origin.
    'Cross-Origin-Opener-Policy',
    'same-origin-allow-popups',
    'Cross-Origin-Resource-Policy',
    'same-origin',
    'Origin-Agent-Cluster',
    '?1',
    'Referrer-Policy',
    'no-referrer',
    ...(https ? ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] : []),
    'X-Content-Type-Options',
    'nosniff',
    'X-DNS-Prefetch-Control',
    'off',
    'X-Download-Options',
    'noopen',
    'X-Frame-Options',
    'SAMEORIGIN',
    'X-Permitted-Cross-Domain-Policies',
    'none',
    'X-XSS-Protection',
    '0',
  ];
}

/** Sets the list on every answer of the Express app. */
export function securityHeaders(list: FlatHeaders): RequestHandler {
  return (_req, res, next) => {
    for (let i = 0; i < list.length; i += 2) res.setHeader(list[i] as string, list[i + 1] as string);
    next();
  };
}
