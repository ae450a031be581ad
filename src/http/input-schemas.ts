import { z } from 'zod';
import { languages } from '../config';

/** IBAN: country, check digits, 11 to 30 alphanumerics, and the ISO 13616 mod-97 check. Spaces are allowed and dropped. */
export const ibanSchema = z
  .string()
  .max(64, 'IBAN is too long')
  // Checked before upper-casing: toUpperCase() maps some non-ASCII letters to ASCII ones ("ſ" to "S", "ﬅ" to "ST").
  .regex(/^[A-Za-z0-9 ]*$/, 'not a valid IBAN')
  .transform((v) => v.replace(/ /g, '').toUpperCase())
  .refine((v) => /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(v) && mod97(v) === 1, 'not a valid IBAN');

function mod97(iban: string): number {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const digits = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97;
  }
  return remainder;
}

export const languageSchema = z.enum(languages as [string, ...string[]]);

const token = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII only');

/** A start ticket from the integrator API (base64url, 32 characters as issued). */
export const ticketSchema = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/);

export const startInputSchema = z.strictObject({
  iban: ibanSchema.optional(),
  language: languageSchema.optional(),
  ticket: ticketSchema.optional(),
});

/** The lender's own id for an applicant or application; never personal data. */
export const referenceSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);

export const createVerificationSchema = z.strictObject({
  reference: referenceSchema,
  iban: ibanSchema.optional(),
  language: languageSchema.optional(),
});
const bool = z.enum(['true', 'false']);

/** Names read by name, never position; the widget may add others, which the GET callback ignores. */
const callbackFields = {
  state: token(512),
  success: bool,
  cancel: bool.optional(),
  code: token(4096).optional(),
  flow_id: token(256).optional(),
};

const toParams = (v: {
  state: string;
  success: 'true' | 'false';
  cancel?: 'true' | 'false' | undefined;
  code?: string | undefined;
  flow_id?: string | undefined;
}) => ({
  state: v.state,
  success: v.success === 'true',
  cancel: v.cancel === 'true',
  code: v.code,
  flowId: v.flow_id,
});

const successNeedsCode = (v: { success: string; cancel?: string | undefined; code?: string | undefined }) =>
  !(v.success === 'true' && v.cancel !== 'true' && v.code === undefined);

export const callbackQuerySchema = z
  .object(callbackFields)
  .refine(successNeedsCode, 'success=true needs a code')
  .transform(toParams);
/** The iframe mode's JSON body is our own API: unknown fields are refused. */
export const callbackBodySchema = z
  .strictObject(callbackFields)
  .refine(successNeedsCode, 'success=true needs a code')
  .transform(toParams);
