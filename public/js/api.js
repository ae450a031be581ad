// The page's calls to the server: JSON in, JSON out, one error type with the server's code.
import { isObject, retryAfterSeconds, str } from './values.js';

export class ApiError extends Error {
  constructor(code, message, requestId, httpStatus, retryAfter) {
    super(message);
    this.code = code;
    this.requestId = requestId;
    this.httpStatus = httpStatus;
    this.retryAfter = retryAfter;
  }
}

/**
 * Calls the server. `t` gives the message of an error: the page's own text for its code (in the
 * page's language), else the server's message, else the generic text.
 */
export async function api(t, method, path, body, extraHeaders) {
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json', ...extraHeaders },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError('network_error', t.error('network_error'), null, 0, null);
  }
  let data = null;
  if (res.status !== 204 && res.status !== 304) {
    const text = await res.text().catch(() => '');
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
  }
  if (!res.ok && res.status !== 304) {
    const err = isObject(data) && isObject(data.error) ? data.error : {};
    const code = str(err.code) || `http_${res.status}`;
    const message = t.error(code) || str(err.message) || t('generic');
    throw new ApiError(code, message, str(err.requestId), res.status, retryAfterSeconds(res.headers, null));
  }
  return { httpStatus: res.status, data, headers: res.headers };
}
