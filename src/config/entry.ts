import { z } from 'zod';

/** The groups of the configuration, in the order the README and `.env.example` show them. */
export const GROUPS = {
  server: 'Server',
  provider: 'Provider (finX / Qwist)',
  redis: 'Redis',
  sessions: 'Sessions & encryption',
  timing: 'Flow & report timing',
  metrics: 'Metrics',
  rateLimits: 'Rate limits',
  integrator: "The lender's side (integrator API) and background jobs",
  webhooks: "Webhooks to the lender's backend",
  sandbox: 'Sandbox (simulated finX: embedded with FINX_API_URL unset, or `npm run sandbox`)',
} as const;
export type Group = keyof typeof GROUPS;

/** One environment variable: where it is documented, what it does, how it is read. */
export interface ConfigEntry {
  group: Group;
  /** One line for people: what it does, its default, what production needs. */
  doc: string;
  /** The value `.env.example` shows (commented out unless `setInProduction`). */
  example?: string;
  /** `.env.example` leaves the line uncommented: a deployment has to fill it in. */
  setInProduction?: true;
  schema: z.ZodType;
}

export const defineEntries = <const E extends Record<string, ConfigEntry>>(entries: E): E => entries;

/** The zod object of a set of entries, keeping each variable's parsed type. */
export function schemaOf<E extends Record<string, ConfigEntry>>(
  entries: E,
): z.ZodObject<{ [K in keyof E]: E[K]['schema'] }> {
  const shape = Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, entry.schema]));
  return z.object(shape) as z.ZodObject<{ [K in keyof E]: E[K]['schema'] }>;
}

/** An empty variable counts as unset, as in a shell or compose's `${VAR:-}`. */
export function withoutBlanks(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1].trim() !== ''),
  );
}

/** Every problem of a failed parse, one line per variable. */
export const issuesOf = (error: z.ZodError): string[] =>
  error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);

export const int = (min: number, fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
export const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
export const list = optionalString.transform((v) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
);
