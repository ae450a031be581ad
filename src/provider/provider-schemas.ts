import { z } from 'zod';

export const widgetLinkSchema = z.object({
  location: z.url({ protocol: /^https?$/ }),
  id: z.string().min(1).max(256),
});

/**
 * Only `access_token` is certain (docs/finx-api.md §3): a missing or unusable `expires_in` (absent, a
 * numeric string, garbage) must not burn the single-use code, so it becomes undefined and the
 * caller assumes its default lifetime; a 401 on the report then refreshes once.
 */
const lifetimeS = z.preprocess((value) => {
  const n = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}, z.number().positive().optional());

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.unknown().optional(),
  expires_in: lifetimeS,
  refresh_token: z.string().min(1).optional(),
  scope: z.unknown().optional(),
});

/** The report is passed through to the frontend; every field may be absent, but it must be a JSON object. */
export const incomeReportSchema = z.record(z.string(), z.unknown());

/** finX errors (`{ error: { code, message, description } }`) and older OAuth-style ones (`{ error, error_description }`). */
export const providerErrorBodySchema = z.union([
  z.object({
    error: z.object({
      code: z.union([z.number(), z.string()]).optional(),
      message: z.string().optional(),
      description: z.string().optional(),
    }),
  }),
  z.object({ error: z.string(), error_description: z.string().optional() }),
]);
