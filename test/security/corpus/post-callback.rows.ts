import { send } from '../security-support';
import {
  target,
  SCRIPT,
  CRLF,
  NUL,
  EVIL,
  own,
  other,
  used,
  postJson,
  callbackQuery,
  callbackBody,
  forgedState,
  type Row,
} from './corpus';

export const postCallbackRows: Row[] = [
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
      send(target.url, '/api/verification/callback', {
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
      send(target.url, '/api/verification/callback', {
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
      send(target.url, '/api/verification/callback', {
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
