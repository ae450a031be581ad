import {
  SCRIPT,
  IMG,
  JS_URL,
  RLO,
  EMOJI,
  NUL,
  enc,
  qs,
  own,
  get,
  postJson,
  callbackQuery,
  callbackBody,
  forgedState,
  type Scene,
  type Row,
} from './corpus';

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

export const everyParameterRows: Row[] = HOSTILE.flatMap(([label, value]): Row[] => {
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
