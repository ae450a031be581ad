import { z } from 'zod';
import { languages } from '../provider/languages';
import { AppError, type ErrorCode } from '../errors';

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
  /** The provider's two use-cases: fetch the report once, or keep access (report refresh) up to 90 days. */
  access: z.enum(['one_time', 'ongoing']).optional(),
});
const bool = z.enum(['true', 'false']);
/** The widget's postMessage may carry flags as JSON booleans (docs/finx-api.md §2); the query has strings. */
const jsonBool = z.union([bool, z.boolean().transform((b) => (b ? 'true' : 'false'))]);

/**
 * The code's length is undocumented (docs/finx-api.md §2: allow at least 4 KiB). The URL limit
 * (MAX_URL_LENGTH) and the 16 KB body limit bound what arrives; this leaves room for 4 KiB codes
 * beside state, flow_id and the flags.
 */
export const MAX_CODE_LENGTH = 6144;

/** Names read by name, never position; the widget may add others, which the GET callback ignores. */
const callbackFields = (flag: z.ZodType<'true' | 'false'>) => ({
  state: token(512),
  success: flag,
  /** `cancel` in older docs, `abort` in the newest: either means the user cancelled. */
  cancel: flag.optional(),
  abort: flag.optional(),
  code: token(MAX_CODE_LENGTH).optional(),
  flow_id: token(256).optional(),
});

type RawCallback = {
  state: string;
  success: 'true' | 'false';
  cancel?: 'true' | 'false' | undefined;
  abort?: 'true' | 'false' | undefined;
  code?: string | undefined;
  flow_id?: string | undefined;
};

const cancelled = (v: RawCallback) => v.cancel === 'true' || v.abort === 'true';

const toParams = (v: RawCallback) => ({
  state: v.state,
  success: v.success === 'true',
  cancel: cancelled(v),
  code: v.code,
  flowId: v.flow_id,
});

const successNeedsCode = (v: RawCallback) => !(v.success === 'true' && !cancelled(v) && v.code === undefined);

export const callbackQuerySchema = z
  .object(callbackFields(bool))
  .refine(successNeedsCode, 'success=true needs a code')
  .transform(toParams);
/**
 * The iframe mode's JSON body: the widget's message query forwarded as is. Every key the provider
 * documents is accepted, flags as strings or booleans; anything else is refused (never echoed).
 */
export const callbackBodySchema = z
  .strictObject(callbackFields(jsonBool))
  .refine(successNeedsCode, 'success=true needs a code')
  .transform(toParams);

type FieldErrors = Record<string, readonly [ErrorCode, string]>;

/** The fields every start input shares answer with the same codes on every route. */
const SHARED_FIELD_ERRORS: FieldErrors = {
  iban: ['invalid_iban', 'The IBAN is not valid.'],
  language: ['invalid_language', 'Language must be one of de, en, es, fr, ar.'],
};

/**
 * Parses input or throws the AppError of its first problem: a field's own code where it has one
 * (`fields` adds or overrides; key "" is the input as a whole), else `invalid_request`.
 */
export function parseInput<T>(
  schema: z.ZodType<T>,
  input: unknown,
  fields: FieldErrors = {},
  invalidMessage = 'The request is not valid.',
): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const known = { ...SHARED_FIELD_ERRORS, ...fields }[String(issue?.path[0] ?? '')];
  if (known) throw new AppError(known[0], known[1]);
  throw new AppError(
    'invalid_request',
    issue?.code === 'unrecognized_keys' ? 'Unknown field in the request.' : invalidMessage,
  );
}
