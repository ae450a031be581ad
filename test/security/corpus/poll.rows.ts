import { rawGet } from '../security-support';
import { target, SCRIPT, IMG, EVIL, qs, own, get, BIG_QUERY, TEN_KB, type Row } from './corpus';

export const pollRows: Row[] = [
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
    send: () => rawGet(target.url, `/api/verification?x=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
];
