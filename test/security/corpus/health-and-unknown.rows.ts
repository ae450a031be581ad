import { rawGet, send } from '../security-support';
import {
  target,
  SCRIPT,
  EMOJI,
  NUL,
  EVIL,
  enc,
  qs,
  own,
  get,
  postJson,
  JSON_TYPE,
  BIG_QUERY,
  TEN_KB,
  type Row,
} from './corpus';

export const healthAndUnknownRows: Row[] = [
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
    send: () => rawGet(target.url, `/healthz?x=${BIG_QUERY}`),
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
    send: () => rawGet(target.url, '/../../etc/passwd'),
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
      send(target.url, '/api/verification', {
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
    send: () => rawGet(target.url, `/nowhere?x=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
];
