import { rawGet } from '../security-support';
import {
  target,
  SCRIPT,
  IMG,
  JS_URL,
  CRLF,
  EMOJI,
  EVIL,
  qs,
  own,
  other,
  used,
  get,
  callbackQuery,
  forgedState,
  BIG_QUERY,
  TEN_KB,
  type Row,
} from './corpus';

export const callbackRows: Row[] = [
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
    send: () => rawGet(target.url, `/callback?state=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
];
