import { send, type ApprovedFlow, type Expectation, type Reply, type SendOptions } from '../security-support';

/** The server every row is sent to; the runner (bad-input.test.ts) sets it before the first row. */
export const target = { url: '' };

/**
 * What a row needs prepared before the "before" snapshot: `own` is a browser with a pending,
 * approved flow (the callback not sent yet); `other` is a second browser with its own; `used` is a
 * browser whose flow has already completed (its callback can only be replayed).
 */
export type Need = 'own' | 'other' | 'used';
export type Scene = Partial<Record<Need, ApprovedFlow>>;

export interface Row {
  name: string;
  needs?: Need[];
  send(scene: Scene): Promise<Reply>;
  expect: Expectation;
  /** Values that must never come back in the body or a header. */
  payloads: string[];
}

export const SCRIPT = '<script>alert(1)</script>';
export const IMG = '"><img src=x onerror=alert(1)>';
export const JS_URL = 'javascript:alert(1)';
export const CRLF = '\r\nSet-Cookie: injected=evil';
export const RLO = 'rlo\u202egnp.exe';
export const EMOJI = 'emoji\u{1F600}marker';
export const NUL = 'nul\u0000marker';
export const EVIL = 'https://evil.example';
export const VALID_IBAN = 'DE89370400440532013000';

export const enc = encodeURIComponent;
/** `?k=v&…` with every key and value percent-encoded: what the server decodes is exactly what is given. */
export const qs = (...pairs: Array<[string, string]>) =>
  '?' + pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
export const must = (flow: ApprovedFlow | undefined): ApprovedFlow => {
  if (!flow) throw new Error('row used a flow it did not declare in `needs`');
  return flow;
};
export const own = (s: Scene) => must(s.own);
export const other = (s: Scene) => must(s.other);
export const used = (s: Scene) => must(s.used);

export const get = (path: string, options: SendOptions = {}) => send(target.url, path, options);
export const postJson = (path: string, body: unknown, options: SendOptions = {}) =>
  send(target.url, path, {
    ...options,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
export const del = (options: SendOptions = {}) =>
  send(target.url, '/api/verification', { method: 'DELETE', ...options });
export const JSON_TYPE = { 'content-type': 'application/json' };
/** Query of the widget's callback for `flow` with some fields replaced (undefined drops a field). */
export const callbackQuery = (flow: ApprovedFlow, overrides: Record<string, string | undefined> = {}) => {
  const fields: Record<string, string | undefined> = {
    state: flow.state,
    success: 'true',
    code: flow.code,
    flow_id: flow.flowId,
    ...overrides,
  };
  return qs(...Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
};
export const callbackBody = (flow: ApprovedFlow, overrides: Record<string, unknown> = {}) => ({
  state: flow.state,
  success: 'true',
  code: flow.code,
  flow_id: flow.flowId,
  ...overrides,
});
export const forgedState = 'forged-state-' + 'f'.repeat(30);
export const BIG_QUERY = 'q'.repeat(100_000);
export const TEN_KB = 'k'.repeat(10_000);
