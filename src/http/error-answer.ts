import type { ServerResponse } from 'node:http';
import { AppError, statusForCode } from '../errors';

/** An error answer: `{ error: { code, message, requestId } }` with its status and headers. */
export interface ErrorAnswer {
  status: number;
  /** name, value, … (Cache-Control, Retry-After when known, Content-Type, Content-Length). */
  headers: string[];
  body: string;
}

/** Builds the one error shape every endpoint (and the protocol-level clientError handler) answers. */
export function errorAnswer(err: AppError, requestId: string | null): ErrorAnswer {
  const body = JSON.stringify({ error: { code: err.code, message: err.message, requestId } });
  const headers = ['Cache-Control', 'no-store'];
  if (err.retryAfterS !== undefined) headers.push('Retry-After', String(err.retryAfterS));
  headers.push(
    'Content-Type',
    'application/json; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
  );
  return { status: statusForCode(err.code), headers, body };
}

/** Writes it on a response; headers already set on `res` (security headers, X-Request-Id) stay. */
export function writeErrorAnswer(res: ServerResponse, err: AppError, requestId: string | null): void {
  const answer = errorAnswer(err, requestId);
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/** The same answer as raw HTTP/1.1 text, for a socket that has no response object (clientError). */
export function rawErrorAnswer(err: AppError, statusText: string, extraHeaders: string[]): string {
  const answer = errorAnswer(err, null);
  const all = [...answer.headers, ...extraHeaders, 'Connection', 'close'];
  let head = `HTTP/1.1 ${answer.status} ${statusText}\r\n`;
  for (let i = 0; i < all.length; i += 2) head += `${all[i]}: ${all[i + 1]}\r\n`;
  return `${head}\r\n${answer.body}`;
}
