import type { Response } from 'express';
import type { z } from 'zod';

/** The finX client error codes this sandbox answers with (docs/finx-api.md, section 5). */
export const FinxCode = {
  invalidRequest: 1000,
  notFound: 1002,
  unauthorized: 1003,
  invalidClientAuthorization: 1004,
  unprocessable: 1006,
  forbidden: 1007,
  resourceBusy: 1008,
  general: 30000,
} as const;

export interface FinxErrorBody {
  error: { code: number; group: string; description: string; data: Record<string, unknown>; message: string };
}

function groupOf(code: number): string {
  if (code < 10000) return 'client';
  if (code < 20000) return 'user';
  if (code < 30000) return 'bank';
  if (code < 40000) return 'general';
  return 'connectivity';
}

export function finxErrorBody(
  code: number,
  message: string,
  description: string,
  data: Record<string, unknown> = {},
): FinxErrorBody {
  return { error: { code, group: groupOf(code), description, data, message } };
}

export function sendFinxError(
  res: Response,
  status: number,
  code: number,
  message: string,
  description: string,
  data?: Record<string, unknown>,
): void {
  res.status(status).json(finxErrorBody(code, message, description, data));
}

/** The body an injected fault answers when its script gives none: what the provider would plausibly send. */
export function defaultErrorForStatus(status: number): FinxErrorBody {
  switch (status) {
    case 400:
      return finxErrorBody(FinxCode.invalidRequest, 'Invalid request', 'Injected fault: invalid request');
    case 401:
      return finxErrorBody(FinxCode.unauthorized, 'Unauthorized', 'Injected fault: unauthorized');
    case 403:
      return finxErrorBody(FinxCode.forbidden, 'Forbidden', 'Injected fault: forbidden');
    case 404:
      return finxErrorBody(FinxCode.notFound, 'Not found', 'Injected fault: not found');
    case 422:
      return finxErrorBody(FinxCode.unprocessable, 'Unprocessable', 'Injected fault: unprocessable');
    case 423:
      return finxErrorBody(FinxCode.resourceBusy, 'Resource busy', 'Injected fault: resource busy');
    case 429:
      return finxErrorBody(FinxCode.general, 'Too many requests', 'Injected fault: rate limited');
    default:
      return status >= 500
        ? finxErrorBody(FinxCode.general, 'Service unavailable', `Injected fault: HTTP ${status}`)
        : finxErrorBody(FinxCode.invalidRequest, 'Request failed', `Injected fault: HTTP ${status}`);
  }
}

/** Validation problems as plain data for the `data` field of an error body. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}
