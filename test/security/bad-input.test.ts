import { gzipSync } from 'node:zlib';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import {
  HIGH_RATE_LIMITS,
  inspectRedis,
  startTestSandbox,
  startTestServer,
  type TestServer,
} from '../support/harness';
import {
  closeClients,
  completeFlow,
  expectNotEchoed,
  rawGet,
  send,
  sendRaw,
  snapshotRedis,
  startApprovedFlow,
  expectAnswer,
  type ApprovedFlow,
  type Expectation,
  type Reply,
  type SendOptions,
} from './security-support';

let sandbox: Sandbox;
let server: TestServer;
let redis: Awaited<ReturnType<typeof inspectRedis>>;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await inspectRedis();
  server = await startTestServer({
    sandbox,
    env: HIGH_RATE_LIMITS,
  });
});
afterAll(async () => {
  await server.close();
  await redis.dropPrefix(server.prefix);
  await sandbox.close();
  await redis.close();
  closeClients();
});

/**
 * What a row needs prepared before the "before" snapshot: `own` is a browser with a pending,
 * approved flow (the callback not sent yet); `other` is a second browser with its own; `used` is a
 * browser whose flow has already completed (its callback can only be replayed).
 */
type Need = 'own' | 'other' | 'used';
type Scene = Partial<Record<Need, ApprovedFlow>>;

interface Row {
  name: string;
  needs?: Need[];
  send(scene: Scene): Promise<Reply>;
  expect: Expectation;
  /** Values that must never come back in the body or a header. */
  payloads: string[];
}

const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';
const JS_URL = 'javascript:alert(1)';
const CRLF = '\r\nSet-Cookie: injected=evil';
const RLO = 'rlo\u202egnp.exe';
const EMOJI = 'emoji\u{1F600}marker';
const NUL = 'nul\u0000marker';
const EVIL = 'https://evil.example';
const VALID_IBAN = 'DE89370400440532013000';

const enc = encodeURIComponent;
/** `?k=v&…` with every key and value percent-encoded: what the server decodes is exactly what is given. */
const qs = (...pairs: Array<[string, string]>) =>
  '?' + pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
const must = (flow: ApprovedFlow | undefined): ApprovedFlow => {
  if (!flow) throw new Error('row used a flow it did not declare in `needs`');
  return flow;
};
const own = (s: Scene) => must(s.own);
const other = (s: Scene) => must(s.other);
const used = (s: Scene) => must(s.used);

const get = (path: string, options: SendOptions = {}) => send(server.url, path, options);
const postJson = (path: string, body: unknown, options: SendOptions = {}) =>
  send(server.url, path, {
    ...options,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const del = (options: SendOptions = {}) =>
  send(server.url, '/api/verification', { method: 'DELETE', ...options });
const JSON_TYPE = { 'content-type': 'application/json' };
/** Query of the widget's callback for `flow` with some fields replaced (undefined drops a field). */
const callbackQuery = (flow: ApprovedFlow, overrides: Record<string, string | undefined> = {}) => {
  const fields: Record<string, string | undefined> = {
    state: flow.state,
    success: 'true',
    code: flow.code,
    flow_id: flow.flowId,
    ...overrides,
  };
  return qs(...Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
};
const callbackBody = (flow: ApprovedFlow, overrides: Record<string, unknown> = {}) => ({
  state: flow.state,
  success: 'true',
  code: flow.code,
  flow_id: flow.flowId,
  ...overrides,
});
const forgedState = 'forged-state-' + 'f'.repeat(30);
const BIG_QUERY = 'q'.repeat(100_000);
const TEN_KB = 'k'.repeat(10_000);

const startRows: Row[] = [
  {
    name: 'a state parameter (unknown field)',
    send: () => get(`/verification/start${qs(['state', forgedState])}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [forgedState],
  },
  {
    name: 'repeated language (array)',
    send: () => get('/verification/start?language=de&language=xx-lang-array'),
    expect: { json: 400, code: 'invalid_language' },
    payloads: ['xx-lang-array'],
  },
  {
    name: 'repeated iban (array)',
    send: () => get(`/verification/start?iban=${VALID_IBAN}&iban=GB82WEST12345698765499`),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['GB82WEST12345698765499'],
  },
  {
    name: 'object syntax language[x]=de',
    send: () => get('/verification/start?language[objkey]=de'),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['objkey'],
  },
  {
    name: 'an IBAN with a bad checksum',
    send: () => get('/verification/start?iban=DE89370400440532013001'),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['DE89370400440532013001'],
  },
  {
    name: 'an IBAN that is too short',
    send: () => get('/verification/start?iban=DE8937040044'),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['DE8937040044'],
  },
  {
    name: 'an IBAN with letters in the check digits',
    send: () => get('/verification/start?iban=DEXX370400440532013000'),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['DEXX370400440532013000'],
  },
  // toUpperCase() maps some non-ASCII letters to ASCII ones: U+017F (long s) becomes "S".
  {
    name: 'an IBAN that is only valid after Unicode case mapping',
    send: () => get(`/verification/start${qs(['iban', 'GB82WE\u017fT12345698765432'])}`),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['GB82WE'],
  },
  {
    name: 'an IBAN of 100 characters',
    send: () => get(`/verification/start?iban=DE89${'7'.repeat(96)}`),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: [`DE89${'7'.repeat(96)}`],
  },
  {
    name: 'XSS as the IBAN',
    send: () => get(`/verification/start${qs(['iban', SCRIPT])}`),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: [SCRIPT],
  },
  {
    name: 'XSS as the language, unencoded in the URL',
    send: () => get(`/verification/start?language=${SCRIPT}`),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [SCRIPT],
  },
  {
    name: 'attribute-breaking XSS as the language',
    send: () => get(`/verification/start${qs(['language', IMG])}`),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [IMG],
  },
  {
    name: 'a javascript: URL as the IBAN',
    send: () => get(`/verification/start${qs(['iban', JS_URL])}`),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: [JS_URL],
  },
  {
    name: 'XSS as a parameter name',
    send: () => get(`/verification/start${qs([SCRIPT, '1'])}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [SCRIPT],
  },
  {
    name: 'a NUL byte in the language',
    send: () => get(`/verification/start${qs(['language', 'de\u0000'])}`),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [],
  },
  {
    name: 'a NUL byte in the IBAN',
    send: () => get(`/verification/start${qs(['iban', VALID_IBAN + '\u0000'])}`),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: [VALID_IBAN],
  },
  {
    name: 'a right-to-left override in the language',
    send: () => get(`/verification/start${qs(['language', RLO])}`),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [RLO],
  },
  {
    name: 'an emoji in the IBAN',
    send: () => get(`/verification/start${qs(['iban', VALID_IBAN + '\u{1F600}'])}`),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: [VALID_IBAN],
  },
  {
    name: 'CRLF in the language',
    send: () => get(`/verification/start${qs(['language', 'en' + CRLF])}`),
    expect: { json: 400, code: 'invalid_language' },
    payloads: ['injected=evil'],
  },
  {
    name: 'an unsupported language',
    send: () => get('/verification/start?language=klingon'),
    expect: { json: 400, code: 'invalid_language' },
    payloads: ['klingon'],
  },
  {
    name: 'an upper-case language',
    send: () => get('/verification/start?language=DE'),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [],
  },
  {
    name: 'an empty language',
    send: () => get('/verification/start?language='),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [],
  },
  {
    name: 'a redirect_uri to another site',
    send: () => get(`/verification/start${qs(['redirect_uri', EVIL + '/steal'])}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [EVIL],
  },
  {
    name: 'a return_to to another site',
    send: () => get(`/verification/start${qs(['return_to', '//evil.example/x'])}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['evil.example'],
  },
  {
    name: 'a cross-site fetch (Sec-Fetch-Site: cross-site) from a browser with a flow in progress',
    needs: ['own'],
    send: (s) =>
      get('/verification/start', {
        cookie: own(s).cookie,
        headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
      }),
    expect: { json: 403, code: 'cross_site_request' },
    payloads: [],
  },
  {
    // A person navigating is sent back to the page with the reason instead of a JSON error.
    name: 'a cross-site navigation from a browser with a flow in progress',
    needs: ['own'],
    send: (s) =>
      get('/verification/start', {
        cookie: own(s).cookie,
        headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
      }),
    expect: { returnTo: 'cross_site_request' },
    payloads: [],
  },
  {
    name: 'a navigation with a foreign Origin and XSS as the language',
    send: () =>
      get(`/verification/start${qs(['language', SCRIPT])}`, {
        headers: { origin: EVIL, 'sec-fetch-mode': 'navigate' },
      }),
    expect: { returnTo: 'forbidden_origin' },
    payloads: [EVIL, SCRIPT],
  },
  {
    name: 'a same-origin navigation with XSS as the IBAN',
    send: () =>
      get(`/verification/start${qs(['iban', IMG])}`, {
        headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' },
      }),
    expect: { returnTo: 'invalid_iban' },
    payloads: [IMG],
  },
  {
    name: 'a navigation with a redirect_uri to another site',
    send: () =>
      get(`/verification/start${qs(['redirect_uri', EVIL])}`, { headers: { 'sec-fetch-mode': 'navigate' } }),
    expect: { returnTo: 'invalid_request' },
    payloads: [EVIL],
  },
  {
    name: 'a navigation with a foreign Origin',
    send: () => get('/verification/start', { headers: { origin: EVIL } }),
    expect: { json: 403, code: 'forbidden_origin' },
    payloads: [EVIL],
  },
  {
    name: 'a 10 KB query string',
    send: () => get(`/verification/start?language=${TEN_KB}`),
    expect: { json: 414, code: 'uri_too_long' },
    payloads: [TEN_KB.slice(0, 64)],
  },
  {
    name: 'a navigation to /verification/start/ (trailing slash) with a bad language',
    send: () => get('/verification/start/?language=xx', { headers: { 'sec-fetch-mode': 'navigate' } }),
    expect: { returnTo: 'invalid_language' },
    payloads: [],
  },
  {
    name: 'a navigation with a 10 KB query string',
    send: () => get(`/verification/start?language=${TEN_KB}`, { headers: { 'sec-fetch-mode': 'navigate' } }),
    expect: { returnTo: 'uri_too_long' },
    payloads: [TEN_KB.slice(0, 64)],
  },
  {
    name: 'a 100 KB query string',
    send: () => rawGet(server.url, `/verification/start?language=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
];

const postStartRows: Row[] = [
  {
    name: 'an unsupported language',
    send: () => postJson('/api/verification', { language: 'xx-klingon' }),
    expect: { json: 400, code: 'invalid_language' },
    payloads: ['xx-klingon'],
  },
  {
    name: 'an IBAN with a bad checksum',
    send: () => postJson('/api/verification', { iban: 'DE89370400440532013001' }),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['DE89370400440532013001'],
  },
  {
    name: 'an IBAN with a ligature that upper-cases to "ST"',
    send: () => postJson('/api/verification', { iban: 'GB82WE\ufb0512345698765432' }),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['GB82WE'],
  },
  {
    name: 'an IBAN as a number',
    send: () => postJson('/api/verification', '{"iban":8937040044053201}'),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['8937040044053201'],
  },
  {
    name: 'languages as an array',
    send: () => postJson('/api/verification', { language: ['de', 'en'] }),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [],
  },
  {
    name: 'an unknown field (state)',
    send: () => postJson('/api/verification', { state: forgedState }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [forgedState],
  },
  {
    name: 'an unknown field (redirect_uri)',
    send: () => postJson('/api/verification', { redirect_uri: EVIL }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [EVIL],
  },
  {
    name: 'a __proto__ field',
    send: () => postJson('/api/verification', '{"__proto__":{"polluted":"proto-marker"}}'),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['proto-marker'],
  },
  {
    name: 'a constructor.prototype field',
    send: () => postJson('/api/verification', '{"constructor":{"prototype":{"polluted":"ctor-marker"}}}'),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['ctor-marker'],
  },
  {
    name: 'XSS as the language',
    send: () => postJson('/api/verification', { language: SCRIPT }),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [SCRIPT],
  },
  {
    name: 'XSS as the IBAN',
    send: () => postJson('/api/verification', { iban: IMG }),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: [IMG],
  },
  {
    name: 'XSS as a field name',
    send: () => postJson('/api/verification', { [SCRIPT]: 1 }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [SCRIPT],
  },
  {
    name: 'a NUL byte in the IBAN',
    send: () => postJson('/api/verification', { iban: NUL }),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: [NUL],
  },
  {
    name: 'a right-to-left override in the language',
    send: () => postJson('/api/verification', { language: RLO }),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [RLO],
  },
  {
    name: 'an emoji as a field name',
    send: () => postJson('/api/verification', { [EMOJI]: 'x' }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [EMOJI],
  },
  {
    name: 'malformed JSON',
    send: () => postJson('/api/verification', '{"language": "de", broken-json-marker'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: ['broken-json-marker'],
  },
  {
    name: 'null as the body',
    send: () => postJson('/api/verification', 'null'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: [],
  },
  {
    name: 'a number as the body',
    send: () => postJson('/api/verification', '4242424242'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: ['4242424242'],
  },
  {
    name: 'a string as the body',
    send: () => postJson('/api/verification', '"string-body-marker"'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: ['string-body-marker'],
  },
  {
    name: 'an array as the body',
    send: () => postJson('/api/verification', '[{"language":"de"}]'),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'JSON nested 5000 deep',
    send: () => postJson('/api/verification', `{"language":${'['.repeat(5000)}${']'.repeat(5000)}}`),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [],
  },
  {
    name: 'text/plain',
    send: () =>
      send(server.url, '/api/verification', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{"language":"de","m":"plain-marker"}',
      }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: ['plain-marker'],
  },
  {
    name: 'a form post',
    send: () =>
      send(server.url, '/api/verification', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'language=de&m=form-marker',
      }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: ['form-marker'],
  },
  {
    name: 'a multipart form post',
    send: () =>
      send(server.url, '/api/verification', {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
        body: '--b\r\nContent-Disposition: form-data; name="language"\r\n\r\nde\r\n--b--\r\n',
      }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'no content type',
    send: () => send(server.url, '/api/verification', { method: 'POST', body: '{"language":"de"}' }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'a look-alike JSON type',
    send: () =>
      postJson('/api/verification', {}, { headers: { 'content-type': 'application/json-patch+json' } }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'an unsupported charset',
    send: () =>
      postJson(
        '/api/verification',
        {},
        { headers: { 'content-type': 'application/json; charset=iso-8859-1' } },
      ),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'JSON declared as UTF-16 (B14: JSON only as UTF-8)',
    send: () =>
      postJson('/api/verification', {}, { headers: { 'content-type': 'application/json; charset=utf-16' } }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'JSON declared as UTF-32LE in quotes',
    send: () =>
      postJson(
        '/api/verification',
        {},
        { headers: { 'content-type': 'application/json; charset="UTF-32LE"' } },
      ),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'an unknown content encoding',
    send: () => postJson('/api/verification', {}, { headers: { 'content-encoding': 'x-evil' } }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: ['x-evil'],
  },
  {
    name: 'a JSON body over 16 KB',
    send: () => postJson('/api/verification', { language: 'de', pad: 'p'.repeat(17 * 1024) }),
    expect: { json: 413, code: 'payload_too_large' },
    payloads: ['p'.repeat(64)],
  },
  {
    name: 'a gzip bomb (1 MB inflated)',
    send: () =>
      send(server.url, '/api/verification', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(JSON.stringify({ language: 'de', pad: 'b'.repeat(1024 * 1024) })),
      }),
    expect: { json: 413, code: 'payload_too_large' },
    payloads: ['b'.repeat(64)],
  },
  {
    name: 'a corrupt gzip body',
    send: () =>
      send(server.url, '/api/verification', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: Buffer.from('not-gzip-marker'),
      }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['not-gzip-marker'],
  },
  {
    name: 'a CORS preflight from another site (never granted)',
    send: () =>
      send(server.url, '/api/verification', {
        method: 'OPTIONS',
        headers: {
          origin: EVIL,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      }),
    expect: { ok: 200 },
    payloads: [EVIL],
  },
  {
    name: 'Sec-Fetch-Site: cross-site',
    send: () => postJson('/api/verification', {}, { headers: { 'sec-fetch-site': 'cross-site' } }),
    expect: { json: 403, code: 'cross_site_request' },
    payloads: [],
  },
  {
    name: 'a foreign Origin',
    send: () => postJson('/api/verification', {}, { headers: { origin: EVIL } }),
    expect: { json: 403, code: 'forbidden_origin' },
    payloads: [EVIL],
  },
  {
    name: 'Origin: null (sandboxed frame)',
    send: () => postJson('/api/verification', {}, { headers: { origin: 'null' } }),
    expect: { json: 403, code: 'forbidden_origin' },
    payloads: [],
  },
  {
    name: 'an Origin that only starts like ours',
    send: () => postJson('/api/verification', {}, { headers: { origin: `${server.url}.evil.example` } }),
    expect: { json: 403, code: 'forbidden_origin' },
    payloads: ['.evil.example'],
  },
  {
    name: 'a cross-site form post from a browser with a flow in progress',
    needs: ['own'],
    send: (s) =>
      send(server.url, '/api/verification', {
        method: 'POST',
        cookie: own(s).cookie,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'sec-fetch-site': 'cross-site',
          origin: EVIL,
        },
        body: 'language=de',
      }),
    expect: { json: 403, code: 'cross_site_request' },
    payloads: [EVIL],
  },
  {
    name: 'cross-site, with a trailing slash',
    send: () => postJson('/api/verification/', {}, { headers: { 'sec-fetch-site': 'cross-site' } }),
    expect: { json: 403, code: 'cross_site_request' },
    payloads: [],
  },
  {
    name: 'cross-site, in upper case',
    send: () =>
      send(server.url, '/API/Verification', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' },
        body: '{}',
      }),
    expect: { json: 403, code: 'cross_site_request' },
    payloads: [],
  },
  {
    name: 'a form post to //api/verification (past the /api guard?)',
    send: () =>
      send(server.url, '//api/verification', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'language=de',
      }),
    expect: { json: 404, code: 'not_found' },
    payloads: [],
  },
  {
    name: 'a form post to /%61pi/verification',
    send: () =>
      send(server.url, '/%61pi/verification', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      }),
    expect: { json: 404, code: 'not_found' },
    payloads: [],
  },
  {
    name: 'a form post to /./api/verification',
    send: () =>
      send(server.url, '/./api/verification', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      }),
    expect: { json: 404, code: 'not_found' },
    payloads: [],
  },
  {
    name: 'a 10 KB query string',
    send: () => postJson(`/api/verification?pad=${TEN_KB}`, {}),
    expect: { json: 414, code: 'uri_too_long' },
    payloads: [TEN_KB.slice(0, 64)],
  },
];

const callbackRows: Row[] = [
  {
    name: 'no parameters at all',
    send: () => get('/callback'),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'a forged state (no session)',
    send: () =>
      get(`/callback${qs(['state', forgedState], ['success', 'true'], ['code', 'forged-code-marker'])}`),
    expect: { returnTo: 'invalid_state' },
    payloads: [forgedState, 'forged-code-marker'],
  },
  {
    name: 'a forged state in a browser with a flow in progress',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s), { state: forgedState })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_state' },
    payloads: [forgedState],
  },
  {
    name: 'the state twice (array)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s))}&state=${own(s).state}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'two different states (array)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s))}&state=${forgedState}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [forgedState],
  },
  {
    name: 'object syntax state[x]=<own state>',
    needs: ['own'],
    send: (s) =>
      get(`/callback${callbackQuery(own(s), { state: undefined })}&state[x]=${own(s).state}`, {
        cookie: own(s).cookie,
      }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'success given twice',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s))}&success=false`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'SQL injection as the code (own state)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s), { code: "' OR 1=1 --" })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: ["' OR 1=1 --"],
  },
  {
    name: 'CRLF in the code (own state)',
    needs: ['own'],
    send: (s) =>
      get(`/callback${callbackQuery(own(s), { code: own(s).code + CRLF })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: ['injected=evil'],
  },
  {
    name: 'CRLF in the state',
    send: () => get(`/callback${qs(['state', forgedState + CRLF], ['success', 'false'])}`),
    expect: { returnTo: 'invalid_callback' },
    payloads: [forgedState, 'injected=evil'],
  },
  {
    name: 'a 9000-character code (own state): an absurd URL',
    needs: ['own'],
    send: (s) =>
      get(`/callback${callbackQuery(own(s), { code: 'Z'.repeat(9000) })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'uri_too_long' },
    payloads: ['Z'.repeat(64)],
  },
  {
    name: 'a 7000-character code under the URL limit (own state): longer than any code',
    needs: ['own'],
    send: (s) =>
      get(`/callback${callbackQuery(own(s), { code: 'Z'.repeat(7000) })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: ['Z'.repeat(64)],
  },
  {
    name: 'abort as a javascript: URL (own state)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s), { abort: JS_URL })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [JS_URL],
  },
  {
    name: 'a 4000-character code under the URL limit (forged state)',
    needs: ['own'],
    send: (s) =>
      get(`/callback${qs(['state', forgedState], ['success', 'true'], ['code', 'Y'.repeat(3900)])}`, {
        cookie: own(s).cookie,
      }),
    expect: { returnTo: 'invalid_state' },
    payloads: ['Y'.repeat(64), forgedState],
  },
  {
    name: 'a NUL byte in the code (own state)',
    needs: ['own'],
    send: (s) =>
      get(`/callback${callbackQuery(own(s), { code: own(s).code + '\u0000' })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'an emoji in the state',
    send: () => get(`/callback${qs(['state', EMOJI], ['success', 'false'])}`),
    expect: { returnTo: 'invalid_callback' },
    payloads: [EMOJI],
  },
  {
    name: 'a right-to-left override in the flow id (own state)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s), { flow_id: RLO })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [RLO],
  },
  {
    name: 'XSS as the state',
    send: () => get(`/callback${qs(['state', SCRIPT], ['success', 'true'], ['code', 'c0de-marker'])}`),
    expect: { returnTo: 'invalid_state' },
    payloads: [SCRIPT, 'c0de-marker'],
  },
  {
    name: 'XSS unencoded in the URL',
    send: () => get(`/callback?state=${SCRIPT}&success=true&code=${SCRIPT}`),
    expect: { returnTo: 'invalid_state' },
    payloads: [SCRIPT],
  },
  {
    name: 'attribute-breaking XSS as the state',
    send: () => get(`/callback${qs(['state', IMG], ['success', 'false'])}`),
    expect: { returnTo: 'invalid_callback' },
    payloads: [IMG],
  },
  {
    name: 'a javascript: URL as the state',
    send: () => get(`/callback${qs(['state', JS_URL], ['success', 'false'])}`),
    expect: { returnTo: 'invalid_state' },
    payloads: [JS_URL],
  },
  {
    name: 'XSS as success (own state)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s), { success: SCRIPT })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [SCRIPT],
  },
  {
    name: 'a javascript: URL as cancel (own state)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s), { cancel: JS_URL })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [JS_URL],
  },
  {
    name: 'XSS as the flow id (own state)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s), { flow_id: SCRIPT })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [SCRIPT],
  },
  {
    name: "another flow's flow id with our state",
    needs: ['own', 'other'],
    send: (s) =>
      get(`/callback${callbackQuery(own(s), { flow_id: other(s).flowId })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'success=true without a code (own state)',
    needs: ['own'],
    send: (s) => get(`/callback${callbackQuery(own(s), { code: undefined })}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'an empty state',
    send: () => get('/callback?state=&success=false'),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'STATE in upper case (own state)',
    needs: ['own'],
    send: (s) =>
      get(`/callback${callbackQuery(own(s), { state: undefined })}&STATE=${own(s).state}`, {
        cookie: own(s).cookie,
      }),
    expect: { returnTo: 'invalid_callback' },
    payloads: [],
  },
  {
    name: "another browser's state, sent with no session",
    needs: ['other'],
    send: (s) => get(`/callback${other(s).search}`),
    expect: { returnTo: 'invalid_state' },
    payloads: [],
  },
  {
    name: "another browser's state, sent from a browser with its own flow",
    needs: ['own', 'other'],
    send: (s) => get(`/callback${other(s).search}`, { cookie: own(s).cookie }),
    expect: { returnTo: 'invalid_state' },
    payloads: [],
  },
  {
    name: 'a replayed state (the flow already completed)',
    needs: ['used'],
    send: (s) => get(`/callback${used(s).search}`, { cookie: used(s).cookie }),
    expect: { returnTo: 'invalid_state' },
    payloads: [],
  },
  {
    name: 'a forged session cookie',
    needs: ['other'],
    send: (s) =>
      get(`/callback${other(s).search}`, { cookie: 'bff.sid=s%3Aforged-session-id.forgedsignature' }),
    expect: { returnTo: 'invalid_state' },
    payloads: ['forged-session-id'],
  },
  {
    name: 'redirect_uri to another site (forged state)',
    send: () =>
      get(
        `/callback${qs(['state', forgedState], ['success', 'true'], ['code', 'abc'], ['redirect_uri', EVIL])}`,
      ),
    expect: { returnTo: 'invalid_state' },
    payloads: ['evil.example'],
  },
  {
    name: 'return_to and next to another site (no state)',
    send: () =>
      get(`/callback${qs(['return_to', `${EVIL}/a`], ['next', '//evil.example/b'], ['success', 'false'])}`),
    expect: { returnTo: 'invalid_callback' },
    payloads: ['evil.example'],
  },
  {
    name: 'next as a javascript: URL',
    send: () => get(`/callback${qs(['next', JS_URL], ['state', forgedState], ['success', 'false'])}`),
    expect: { returnTo: 'invalid_state' },
    payloads: [JS_URL],
  },
  {
    name: 'a Host header of another site',
    send: () =>
      get(`/callback${qs(['state', forgedState], ['success', 'false'])}`, {
        headers: { host: 'evil.example' },
      }),
    expect: { returnTo: 'invalid_state' },
    payloads: ['evil.example'],
  },
  {
    name: 'X-Forwarded-Host of another site',
    send: () =>
      get(`/callback${qs(['state', forgedState], ['success', 'false'])}`, {
        headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      }),
    expect: { returnTo: 'invalid_state' },
    payloads: ['evil.example'],
  },
  {
    name: 'a trailing slash (/callback/, which the router also matches)',
    send: () => get(`/callback/${qs(['state', forgedState], ['success', 'false'])}`),
    expect: { returnTo: 'invalid_state' },
    payloads: [forgedState],
  },
  {
    name: 'an upper-case path (/CALLBACK, which the router also matches)',
    send: () => get(`/CALLBACK${qs(['state', SCRIPT], ['success', 'false'])}`),
    expect: { returnTo: 'invalid_state' },
    payloads: [SCRIPT],
  },
  {
    name: 'a 10 KB query string',
    send: () => get(`/callback?state=${TEN_KB}`),
    expect: { returnTo: 'uri_too_long' },
    payloads: [TEN_KB.slice(0, 64)],
  },
  {
    name: 'a 100 KB query string',
    send: () => rawGet(server.url, `/callback?state=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
];

const postCallbackRows: Row[] = [
  {
    name: 'a forged state',
    send: () =>
      postJson('/api/verification/callback', {
        state: forgedState,
        success: 'true',
        code: 'forged-code-marker',
      }),
    expect: { json: 400, code: 'invalid_state' },
    payloads: [forgedState, 'forged-code-marker'],
  },
  {
    name: 'an unknown field (redirect_uri) with our state',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { redirect_uri: EVIL }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: [EVIL],
  },
  {
    name: 'the state as an array',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { state: [own(s).state, forgedState] }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: [forgedState],
  },
  {
    name: 'the state as an object',
    needs: ['own'],
    send: (s) =>
      postJson(
        '/api/verification/callback',
        callbackBody(own(s), { state: { $ne: null, x: own(s).state } }),
        { cookie: own(s).cookie },
      ),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'success as a number',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { success: 1 }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'abort as an object (own state)',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { abort: { $ne: null } }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'an undocumented key beside the documented ones (never echoed)',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { abort: false, link_marker_key: 1 }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: ['link_marker_key'],
  },
  {
    name: 'SQL injection as the code (own state)',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { code: "' OR 1=1 --" }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: ["' OR 1=1 --"],
  },
  {
    name: 'a 7000-character code (own state)',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { code: 'Z'.repeat(7000) }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: ['Z'.repeat(64)],
  },
  {
    name: 'a NUL byte in the code (own state)',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { code: NUL }), { cookie: own(s).cookie }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: [NUL],
  },
  {
    name: 'CRLF in the flow id (own state)',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { flow_id: own(s).flowId + CRLF }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: ['injected=evil'],
  },
  {
    name: 'XSS as the state',
    send: () => postJson('/api/verification/callback', { state: SCRIPT, success: 'false' }),
    expect: { json: 400, code: 'invalid_state' },
    payloads: [SCRIPT],
  },
  {
    name: 'XSS as success (own state)',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { success: IMG }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: [IMG],
  },
  {
    name: "another browser's state from a browser with its own flow",
    needs: ['own', 'other'],
    send: (s) => postJson('/api/verification/callback', callbackBody(other(s)), { cookie: own(s).cookie }),
    expect: { json: 400, code: 'invalid_state' },
    payloads: [],
  },
  {
    name: 'a replayed state',
    needs: ['used'],
    send: (s) => postJson('/api/verification/callback', callbackBody(used(s)), { cookie: used(s).cookie }),
    expect: { json: 400, code: 'invalid_state' },
    payloads: [],
  },
  {
    name: 'text/plain carrying a valid callback (a cross-site form can send that)',
    needs: ['own'],
    send: (s) =>
      send(server.url, '/api/verification/callback', {
        method: 'POST',
        cookie: own(s).cookie,
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(callbackBody(own(s))),
      }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'a form post carrying a valid callback',
    needs: ['own'],
    send: (s) =>
      send(server.url, '/api/verification/callback', {
        method: 'POST',
        cookie: own(s).cookie,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: callbackQuery(own(s)).slice(1),
      }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'no content type',
    needs: ['own'],
    send: (s) =>
      send(server.url, '/api/verification/callback', {
        method: 'POST',
        cookie: own(s).cookie,
        body: JSON.stringify(callbackBody(own(s))),
      }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'Sec-Fetch-Site: cross-site with a valid callback',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s)), {
        cookie: own(s).cookie,
        headers: { 'sec-fetch-site': 'cross-site' },
      }),
    expect: { json: 403, code: 'cross_site_request' },
    payloads: [],
  },
  {
    name: 'a foreign Origin with a valid callback',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s)), {
        cookie: own(s).cookie,
        headers: { origin: EVIL },
      }),
    expect: { json: 403, code: 'forbidden_origin' },
    payloads: [EVIL],
  },
  {
    name: 'malformed JSON',
    send: () => postJson('/api/verification/callback', '{"state":"broken-json-marker",'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: ['broken-json-marker'],
  },
  {
    name: 'null as the body',
    send: () => postJson('/api/verification/callback', 'null'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: [],
  },
  {
    name: 'a number as the body',
    send: () => postJson('/api/verification/callback', '31337313373'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: ['31337313373'],
  },
  {
    name: 'an array as the body',
    send: () => postJson('/api/verification/callback', '[]'),
    expect: { json: 400, code: 'invalid_callback' },
    payloads: [],
  },
  {
    name: 'a body over 16 KB',
    needs: ['own'],
    send: (s) =>
      postJson('/api/verification/callback', callbackBody(own(s), { pad: 'p'.repeat(17 * 1024) }), {
        cookie: own(s).cookie,
      }),
    expect: { json: 413, code: 'payload_too_large' },
    payloads: ['p'.repeat(64)],
  },
];

const pollRows: Row[] = [
  {
    name: 'a state query parameter',
    needs: ['own'],
    send: (s) => get(`/api/verification${qs(['state', own(s).state])}`, { cookie: own(s).cookie }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'XSS as a query parameter name',
    send: () => get(`/api/verification${qs([SCRIPT, IMG])}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [SCRIPT, IMG],
  },
  {
    name: 'object syntax a[b]=1',
    send: () => get('/api/verification?verification[id]=vid-marker'),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['vid-marker'],
  },
  {
    name: 'a NUL byte in the query',
    send: () => get(`/api/verification${qs(['x', NUL])}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [NUL],
  },
  {
    name: 'a foreign Origin (read-only: answered, but never shared with that origin)',
    needs: ['own'],
    send: (s) => get('/api/verification', { cookie: own(s).cookie, headers: { origin: EVIL } }),
    expect: { ok: 200 },
    payloads: [EVIL],
  },
  {
    name: 'XSS in If-None-Match',
    send: () => get('/api/verification', { headers: { 'if-none-match': SCRIPT } }),
    expect: { ok: 200 },
    payloads: [SCRIPT],
  },
  {
    name: 'a 10 KB query string',
    send: () => get(`/api/verification?x=${TEN_KB}`),
    expect: { json: 414, code: 'uri_too_long' },
    payloads: [TEN_KB.slice(0, 64)],
  },
  {
    name: 'a 100 KB query string',
    send: () => rawGet(server.url, `/api/verification?x=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
];

const deleteRows: Row[] = [
  {
    name: 'Sec-Fetch-Site: cross-site',
    needs: ['own'],
    send: (s) => del({ cookie: own(s).cookie, headers: { ...JSON_TYPE, 'sec-fetch-site': 'cross-site' } }),
    expect: { json: 403, code: 'cross_site_request' },
    payloads: [],
  },
  {
    name: 'a foreign Origin',
    needs: ['own'],
    send: (s) => del({ cookie: own(s).cookie, headers: { ...JSON_TYPE, origin: EVIL } }),
    expect: { json: 403, code: 'forbidden_origin' },
    payloads: [EVIL],
  },
  {
    name: 'no content type',
    needs: ['own'],
    send: (s) => del({ cookie: own(s).cookie }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'text/plain',
    needs: ['used'],
    send: (s) => del({ cookie: used(s).cookie, headers: { 'content-type': 'text/plain' } }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'a form post type',
    needs: ['used'],
    send: (s) =>
      del({ cookie: used(s).cookie, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: "a forged cookie aimed at another browser's verification",
    needs: ['own'],
    send: () => del({ cookie: 'bff.sid=s%3Aforged-session-id.forgedsignature', headers: JSON_TYPE }),
    expect: { ok: 204 },
    payloads: ['forged-session-id'],
  },
  {
    name: 'charset=UTF-8 in quotes is JSON (no session: nothing to delete)',
    send: () => del({ headers: { 'content-type': 'application/json; charset="UTF-8"' } }),
    expect: { ok: 204 },
    payloads: [],
  },
  {
    name: 'charset=utf-16 (B14)',
    needs: ['used'],
    send: (s) =>
      del({ cookie: used(s).cookie, headers: { 'content-type': 'application/json; charset=utf-16' } }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'XSS in the query (ignored)',
    send: () =>
      send(server.url, `/api/verification${qs(['x', SCRIPT])}`, { method: 'DELETE', headers: JSON_TYPE }),
    expect: { ok: 204 },
    payloads: [SCRIPT],
  },
];

const healthAndUnknownRows: Row[] = [
  {
    name: '/healthz with XSS in the query',
    send: () => get(`/healthz${qs(['x', SCRIPT])}`),
    expect: { ok: 200 },
    payloads: [SCRIPT],
  },
  {
    name: '/readyz with a NUL byte and an emoji in the query',
    send: () => get(`/readyz${qs(['x', NUL], [EMOJI, '1'])}`),
    expect: { ok: 200 },
    payloads: [NUL, EMOJI],
  },
  {
    name: '/healthz with a 100 KB query string',
    send: () => rawGet(server.url, `/healthz?x=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
  {
    name: '/readyz with a 10 KB query string',
    send: () => get(`/readyz?x=${TEN_KB}`),
    expect: { json: 414, code: 'uri_too_long' },
    payloads: [TEN_KB.slice(0, 64)],
  },
  {
    name: 'POST /healthz',
    send: () => postJson('/healthz', {}),
    expect: { json: 405, code: 'method_not_allowed' },
    payloads: [],
  },
  {
    name: 'an unknown path',
    send: () => get('/admin-console-marker'),
    expect: { json: 404, code: 'not_found' },
    payloads: ['admin-console-marker'],
  },
  {
    name: 'XSS as the path',
    send: () => get(`/${SCRIPT}`),
    expect: { json: 404, code: 'not_found' },
    payloads: [SCRIPT],
  },
  {
    name: 'an encoded path traversal',
    send: () => get('/..%2f..%2fetc%2fpasswd'),
    expect: { json: 404, code: 'not_found' },
    payloads: ['etc/passwd', 'etc%2fpasswd'],
  },
  {
    name: 'a raw path traversal',
    send: () => rawGet(server.url, '/../../etc/passwd'),
    expect: { json: 404, code: 'not_found' },
    payloads: ['etc/passwd'],
  },
  {
    name: 'a NUL byte in the path',
    send: () => get('/index.html%00.json'),
    expect: { json: 404, code: 'not_found' },
    payloads: ['index.html\u0000.json'],
  },
  { name: 'a dotfile', send: () => get('/.env'), expect: { json: 404, code: 'not_found' }, payloads: [] },
  {
    name: 'a path below /callback',
    send: () => get(`/callback/${enc(EVIL)}`),
    expect: { json: 404, code: 'not_found' },
    payloads: [EVIL],
  },
  {
    name: 'a path below /api/verification',
    send: () => get('/api/verification/verification-id-marker'),
    expect: { json: 404, code: 'not_found' },
    payloads: ['verification-id-marker'],
  },
  {
    name: 'GET /api/verification/callback',
    send: () => get('/api/verification/callback?state=get-state-marker'),
    expect: { json: 405, code: 'method_not_allowed' },
    payloads: ['get-state-marker'],
  },
  {
    name: 'PUT /api/verification',
    needs: ['own'],
    send: (s) =>
      send(server.url, '/api/verification', {
        method: 'PUT',
        cookie: own(s).cookie,
        headers: JSON_TYPE,
        body: '{}',
      }),
    expect: { json: 405, code: 'method_not_allowed' },
    payloads: [],
  },
  {
    name: 'an unknown path with a 100 KB query string',
    send: () => rawGet(server.url, `/nowhere?x=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
];

const headerRows: Row[] = [
  {
    name: "XSS as the X-Request-Id on a session's poll (the fast path)",
    needs: ['own'],
    send: (s) => get('/api/verification', { cookie: own(s).cookie, headers: { 'x-request-id': SCRIPT } }),
    expect: { ok: 200 },
    payloads: [SCRIPT],
  },
  {
    name: "an encoded CRLF in the X-Request-Id on a session's poll (the fast path)",
    needs: ['own'],
    send: (s) =>
      get('/api/verification', {
        cookie: own(s).cookie,
        headers: { 'x-request-id': 'abcdefgh%0d%0aSet-Cookie:%20injected=evil' },
      }),
    expect: { ok: 200 },
    payloads: ['injected=evil'],
  },
  {
    name: "a cross-site read of a session's poll (the fast path) is never shared",
    needs: ['own'],
    send: (s) =>
      get('/api/verification', {
        cookie: own(s).cookie,
        headers: { origin: EVIL, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' },
      }),
    expect: { ok: 200 },
    payloads: [EVIL],
  },
  {
    name: 'XSS as the X-Request-Id',
    send: () => get('/healthz', { headers: { 'x-request-id': SCRIPT } }),
    expect: { ok: 200 },
    payloads: [SCRIPT],
  },
  {
    name: 'an encoded CRLF in the X-Request-Id',
    send: () =>
      get('/api/verification?bad=1', {
        headers: { 'x-request-id': 'abcdefgh%0d%0aSet-Cookie:%20injected=evil' },
      }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['injected=evil'],
  },
  {
    name: 'a raw CR in the X-Request-Id',
    send: () => rawGet(server.url, '/healthz', ['X-Request-Id: abcdefgh\rSet-Cookie: injected=evil']),
    expect: { protocol: 400, code: 'invalid_request' },
    payloads: ['injected=evil'],
  },
  {
    name: 'a raw LF in the X-Request-Id',
    send: () => rawGet(server.url, '/healthz', ['X-Request-Id: abcdefgh\nSet-Cookie: injected=evil']),
    expect: { protocol: 400, code: 'invalid_request' },
    payloads: ['injected=evil'],
  },
  {
    name: 'a 65-character X-Request-Id',
    send: () => get('/nowhere', { headers: { 'x-request-id': 'r'.repeat(65) } }),
    expect: { json: 404, code: 'not_found' },
    payloads: ['r'.repeat(65)],
  },
  {
    name: 'a request id with latin-1 bytes',
    send: () => rawGet(server.url, '/api/verification?x=1', ['X-Request-Id: caf\u00e9-request-id']),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['caf\u00e9-request-id', 'caf\u00c3\u00a9-request-id'],
  },
  {
    name: 'a JSON-breaking X-Request-Id on a JSON error',
    send: () => postJson('/api/verification', 'nope', { headers: { 'x-request-id': '","code":"ok' } }),
    expect: { json: 400, code: 'invalid_json' },
    payloads: ['","code":"ok'],
  },
  {
    name: 'TRACE does not reflect the request (XST)',
    send: () =>
      send(server.url, '/api/verification', {
        method: 'TRACE',
        headers: { 'x-trace-marker': 'xst-marker-value', cookie: 'bff.sid=xst-cookie-marker' },
      }),
    expect: { json: 405, code: 'method_not_allowed' },
    payloads: ['xst-marker-value', 'xst-cookie-marker'],
  },
  {
    name: 'a non-numeric Content-Length',
    send: () =>
      sendRaw(
        server.url,
        'POST /api/verification HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2x\r\nConnection: close\r\n\r\n{}',
      ),
    expect: { protocol: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'an oversized header (20 KB)',
    send: () => rawGet(server.url, '/healthz', [`X-Padding: ${'h'.repeat(20_000)}`]),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: ['h'.repeat(64)],
  },
  {
    name: 'an oversized cookie (20 KB)',
    send: () => rawGet(server.url, '/api/verification', [`Cookie: bff.sid=${'c'.repeat(20_000)}`]),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: ['c'.repeat(64)],
  },
  {
    name: 'Content-Length and Transfer-Encoding together (request smuggling)',
    send: () =>
      sendRaw(
        server.url,
        `POST /api/verification HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
        '2\r\n{}\r\n0\r\n\r\nGET /smuggled-marker HTTP/1.1\r\nHost: x\r\n\r\n',
      ),
    expect: { protocol: 400, code: 'invalid_request' },
    payloads: ['smuggled-marker'],
  },
];

/** Every hostile value in every parameter of every endpoint that takes parameters. */
const HOSTILE: Array<[string, string]> = [
  ['a script tag', SCRIPT],
  ['an attribute-breaking tag', IMG],
  ['a javascript: URL', JS_URL],
  ['a NUL byte', NUL],
  ['a right-to-left override', RLO],
  ['an emoji', EMOJI],
];
const isToken = (v: string) => /^[\x21-\x7e]+$/.test(v);

/**
 * Each callback field with the hostile value while the rest is this browser's real callback. The code
 * goes without a session: with our own state a well-formed code is (rightly) taken to the provider.
 */
const CALLBACK_FIELDS: Array<{ field: string; withSession: boolean; ifWellFormed: string }> = [
  { field: 'state', withSession: true, ifWellFormed: 'invalid_state' },
  { field: 'success', withSession: true, ifWellFormed: 'invalid_callback' },
  { field: 'cancel', withSession: true, ifWellFormed: 'invalid_callback' },
  { field: 'code', withSession: false, ifWellFormed: 'invalid_state' },
  { field: 'flow_id', withSession: true, ifWellFormed: 'invalid_callback' },
];

const everyParameterRows: Row[] = HOSTILE.flatMap(([label, value]): Row[] => {
  const callbackRowsFor = ({ field, withSession, ifWellFormed }: (typeof CALLBACK_FIELDS)[number]): Row[] => {
    const code = isToken(value) ? ifWellFormed : 'invalid_callback';
    const cookie = (s: Scene) => (withSession ? own(s).cookie : undefined);
    return [
      {
        name: `GET /callback: ${label} as ${field}`,
        needs: ['own'],
        send: (s) => get(`/callback${callbackQuery(own(s), { [field]: value })}`, { cookie: cookie(s) }),
        expect: { returnTo: code },
        payloads: [value],
      },
      {
        name: `POST /api/verification/callback: ${label} as ${field}`,
        needs: ['own'],
        send: (s) =>
          postJson('/api/verification/callback', callbackBody(own(s), { [field]: value }), {
            cookie: cookie(s),
          }),
        expect: { json: 400, code },
        payloads: [value],
      },
    ];
  };
  return [
    {
      name: `GET /verification/start: ${label} as the IBAN`,
      send: () => get(`/verification/start${qs(['iban', value])}`),
      expect: { json: 400, code: 'invalid_iban' },
      payloads: [value],
    },
    {
      name: `GET /verification/start: ${label} as the language`,
      send: () => get(`/verification/start${qs(['language', value])}`),
      expect: { json: 400, code: 'invalid_language' },
      payloads: [value],
    },
    {
      name: `GET /verification/start: ${label} as a parameter name`,
      send: () => get(`/verification/start${qs([value, 'de'])}`),
      expect: { json: 400, code: 'invalid_request' },
      payloads: [value],
    },
    {
      name: `POST /api/verification: ${label} as the IBAN`,
      send: () => postJson('/api/verification', { iban: value }),
      expect: { json: 400, code: 'invalid_iban' },
      payloads: [value],
    },
    {
      name: `POST /api/verification: ${label} as the language`,
      send: () => postJson('/api/verification', { language: value }),
      expect: { json: 400, code: 'invalid_language' },
      payloads: [value],
    },
    ...CALLBACK_FIELDS.flatMap(callbackRowsFor),
    {
      name: `GET /callback: ${label} as an extra parameter name`,
      send: () => get(`/callback${qs([value, 'x'], ['state', forgedState], ['success', 'false'])}`),
      expect: { returnTo: 'invalid_state' },
      payloads: [value],
    },
    {
      name: `GET /api/verification: ${label} in the query`,
      send: () => get(`/api/verification${qs(['q', value])}`),
      expect: { json: 400, code: 'invalid_request' },
      payloads: [value],
    },
    {
      name: `GET /healthz: ${label} in the query`,
      send: () => get(`/healthz${qs(['q', value])}`),
      expect: { ok: 200 },
      payloads: [value],
    },
    {
      name: `unknown path: ${label} in the path`,
      send: () => get(`/${enc(value)}`),
      expect: { json: 404, code: 'not_found' },
      payloads: [value],
    },
  ];
});

const groups: Array<[string, Row[]]> = [
  ['GET /verification/start', startRows],
  ['POST /api/verification', postStartRows],
  ['GET /callback', callbackRows],
  ['POST /api/verification/callback', postCallbackRows],
  ['GET /api/verification', pollRows],
  ['DELETE /api/verification', deleteRows],
  ['/healthz, /readyz and unknown paths', healthAndUnknownRows],
  ['request headers', headerRows],
  ['every parameter', everyParameterRows],
];

async function prepare(needs: Need[] = []): Promise<Scene> {
  const scene: Scene = {};
  if (needs.includes('own')) scene.own = await startApprovedFlow(server.url);
  if (needs.includes('other')) scene.other = await startApprovedFlow(server.url);
  if (needs.includes('used'))
    scene.used = await completeFlow(server.url, await startApprovedFlow(server.url));
  return scene;
}

/** The scene's states and codes are secrets: no answer may carry them either. */
const secretsOf = (scene: Scene) => Object.values(scene).flatMap((f) => [f.state, f.code]);

describe.each(groups)('%s refuses hostile input and changes nothing', (_group, rows) => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const scene = await prepare(row.needs);
    const redisBefore = await snapshotRedis(redis, server.prefix);
    const statsBefore = sandbox.stats();
    const logsBefore = server.logs.lines.length;

    const reply = await row.send(scene);

    expectAnswer(reply, row.expect);
    expect(reply.headers['set-cookie']).toBeUndefined();
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expectNotEchoed(reply, [...row.payloads, ...secretsOf(scene)]);
    if (!('protocol' in row.expect)) {
      // A request id is ours, or a well-formed one the client sent: never a hostile header value.
      expect(reply.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{8,64}$/);
    }
    expect(await snapshotRedis(redis, server.prefix)).toEqual(redisBefore);
    expect(sandbox.stats()).toEqual(statsBefore);
    const logged = server.logs.lines.slice(logsBefore).join('');
    for (const secret of secretsOf(scene)) expect(logged).not.toContain(secret);
  });
});

describe('after hostile callbacks the real flow still works', () => {
  it('a flow attacked with forged, cross-session and malformed callbacks completes with its own', async () => {
    const victim = await startApprovedFlow(server.url);
    const attacker = await startApprovedFlow(server.url);
    const attempts = [
      get(`/callback${victim.search}`, { cookie: attacker.cookie }),
      get(`/callback${victim.search}`),
      get(`/callback${callbackQuery(victim, { code: "' OR 1=1" })}`, { cookie: victim.cookie }),
      get(`/callback${callbackQuery(victim, { flow_id: attacker.flowId })}`, { cookie: victim.cookie }),
      postJson('/api/verification/callback', callbackBody(victim), { cookie: attacker.cookie }),
    ];
    for (const reply of await Promise.all(attempts)) expect(reply.status).toBeGreaterThanOrEqual(300);
    const exchangesBefore = sandbox.stats().codeExchanges;
    const done = await get(`/callback${victim.search}`, { cookie: victim.cookie });
    expect(done.headers.location).toBe('/?verification=completed');
    expect(sandbox.stats().codeExchanges).toBe(exchangesBefore + 1);
  });

  it('keeps a well-formed X-Request-Id (so the echo check above can see one)', async () => {
    const reply = await get('/nowhere', { headers: { 'x-request-id': 'client-request-id-42' } });
    expect(reply.headers['x-request-id']).toBe('client-request-id-42');
    expect(() => expectNotEchoed(reply, ['client-request-id-42'])).toThrow(/echoes/);
  });
});

describe('open redirects: the callback only ever goes to the configured return URL', () => {
  const hostile: Array<[string, Array<[string, string]>]> = [
    ['redirect_uri', [['redirect_uri', `${EVIL}/cb`]]],
    ['return_to', [['return_to', '//evil.example']]],
    ['next', [['next', 'https:evil.example']]],
    [
      'all of them, plus a url and a javascript: target',
      [
        ['redirect_uri', EVIL],
        ['return_to', '/\\evil.example'],
        ['next', JS_URL],
        ['url', EVIL],
        ['target', EVIL],
      ],
    ],
  ];

  it.each(hostile)('a completed flow with %s', async (_name, extras) => {
    const flow = await startApprovedFlow(server.url);
    const reply = await get(`/callback${flow.search}&${qs(...extras).slice(1)}`, { cookie: flow.cookie });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('/?verification=completed');
    expectNotEchoed(reply, ['evil.example', JS_URL]);
  });

  it.each(hostile)('a cancelled flow with %s', async (_name, extras) => {
    const flow = await startApprovedFlow(server.url);
    const query = callbackQuery(flow, { success: 'false', cancel: 'true', code: undefined });
    const reply = await get(`/callback${query}&${qs(...extras).slice(1)}`, { cookie: flow.cookie });
    expect(reply.headers.location).toBe('/?verification=cancelled');
    expectNotEchoed(reply, ['evil.example', JS_URL]);
  });
});

describe('GET /metrics after the whole corpus', () => {
  it('carries none of the hostile values (labels are fixed, never taken from requests)', async () => {
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('bff_verification_events_total');
    const payloads = groups
      .flatMap(([, rows]) => rows.flatMap((row) => row.payloads))
      .filter((p) => p.length >= 6);
    expectNotEchoed(metrics, [...new Set(payloads)]);
  });
});
