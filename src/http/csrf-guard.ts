import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors';

/**
 * Guards state-changing API calls. A cross-site page can make a browser send a form POST with the
 * session cookie (SameSite=Lax allows top-level POST navigations within two minutes in some
 * browsers), but it cannot send `Content-Type: application/json` without a CORS preflight we never
 * grant. Fetch Metadata and Origin refuse the rest.
 */
export function csrfGuard(allowedOrigins: string[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' && req.method !== 'DELETE' && req.method !== 'PUT' && req.method !== 'PATCH')
      return next();
    assertSameSite(req, allowedOrigins);
    // Checked on the header itself: bodiless DELETEs must carry it too.
    const [type, ...params] = (req.get('content-type') ?? '').split(';');
    if (type?.trim().toLowerCase() !== 'application/json' || !utf8Charset(params)) {
      return next(
        new AppError('unsupported_media_type', 'Send the request with Content-Type: application/json.'),
      );
    }
    next();
  };
}

/** Throws when the browser says the request came from another site or an origin that is not allowed. */
export function assertSameSite(req: Request, allowedOrigins: string[]): void {
  if (req.get('sec-fetch-site') === 'cross-site') {
    throw new AppError('cross_site_request', 'Requests from other sites are not allowed.');
  }
  const origin = req.get('origin');
  if (origin !== undefined && !allowedOrigins.includes(origin)) {
    throw new AppError('forbidden_origin', 'Requests from this origin are not allowed.');
  }
}

/** JSON is UTF-8 (RFC 8259): a charset parameter may only say so; UTF-16 or UTF-32 bodies are refused. */
function utf8Charset(params: string[]): boolean {
  return params.every((param) => {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'charset') return true;
    return /^"?utf-8"?$/i.test(value.trim());
  });
}
