import { rawGet, sendRaw, send } from '../security-support';
import { target, SCRIPT, EVIL, own, get, postJson, type Row } from './corpus';

export const headerRows: Row[] = [
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
    send: () => rawGet(target.url, '/healthz', ['X-Request-Id: abcdefgh\rSet-Cookie: injected=evil']),
    expect: { protocol: 400, code: 'invalid_request' },
    payloads: ['injected=evil'],
  },
  {
    name: 'a raw LF in the X-Request-Id',
    send: () => rawGet(target.url, '/healthz', ['X-Request-Id: abcdefgh\nSet-Cookie: injected=evil']),
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
    send: () => rawGet(target.url, '/api/verification?x=1', ['X-Request-Id: caf\u00e9-request-id']),
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
      send(target.url, '/api/verification', {
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
        target.url,
        'POST /api/verification HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2x\r\nConnection: close\r\n\r\n{}',
      ),
    expect: { protocol: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'an oversized header (20 KB)',
    send: () => rawGet(target.url, '/healthz', [`X-Padding: ${'h'.repeat(20_000)}`]),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: ['h'.repeat(64)],
  },
  {
    name: 'an oversized cookie (20 KB)',
    send: () => rawGet(target.url, '/api/verification', [`Cookie: bff.sid=${'c'.repeat(20_000)}`]),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: ['c'.repeat(64)],
  },
  {
    name: 'Content-Length and Transfer-Encoding together (request smuggling)',
    send: () =>
      sendRaw(
        target.url,
        `POST /api/verification HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
        '2\r\n{}\r\n0\r\n\r\nGET /smuggled-marker HTTP/1.1\r\nHost: x\r\n\r\n',
      ),
    expect: { protocol: 400, code: 'invalid_request' },
    payloads: ['smuggled-marker'],
  },
];

/** Every hostile value in every parameter of every endpoint that takes parameters. */
