import { gzipSync } from 'node:zlib';
import { send } from '../security-support';
import { target, SCRIPT, EMOJI, EVIL, own, postJson, forgedState, TEN_KB, type Row } from './corpus';

export const postStartRows: Row[] = [
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
    name: 'XSS as a field name',
    send: () => postJson('/api/verification', { [SCRIPT]: 1 }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [SCRIPT],
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
      send(target.url, '/api/verification', {
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
      send(target.url, '/api/verification', {
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
      send(target.url, '/api/verification', {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
        body: '--b\r\nContent-Disposition: form-data; name="language"\r\n\r\nde\r\n--b--\r\n',
      }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'no content type',
    send: () => send(target.url, '/api/verification', { method: 'POST', body: '{"language":"de"}' }),
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
      send(target.url, '/api/verification', {
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
      send(target.url, '/api/verification', {
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
      send(target.url, '/api/verification', {
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
    send: () => postJson('/api/verification', {}, { headers: { origin: `${target.url}.evil.example` } }),
    expect: { json: 403, code: 'forbidden_origin' },
    payloads: ['.evil.example'],
  },
  {
    name: 'a cross-site form post from a browser with a flow in progress',
    needs: ['own'],
    send: (s) =>
      send(target.url, '/api/verification', {
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
      send(target.url, '/API/Verification', {
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
      send(target.url, '//api/verification', {
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
      send(target.url, '/%61pi/verification', {
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
      send(target.url, '/./api/verification', {
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
