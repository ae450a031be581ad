import { z } from 'zod';

export const widgetLinkSchema = z.object({
  location: z.url({ protocol: /^https?$/ }),
  id: z.string().min(1).max(256),
});

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.coerce.number().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
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
