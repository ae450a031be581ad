import { rawGet } from '../security-support';
import {
  target,
  SCRIPT,
  IMG,
  CRLF,
  EVIL,
  VALID_IBAN,
  qs,
  own,
  get,
  forgedState,
  BIG_QUERY,
  TEN_KB,
  type Row,
} from './corpus';

export const startRows: Row[] = [
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
    name: 'XSS as the language, unencoded in the URL',
    send: () => get(`/verification/start?language=${SCRIPT}`),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [SCRIPT],
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
    send: () => rawGet(target.url, `/verification/start?language=${BIG_QUERY}`),
    expect: { protocol: 431, code: 'headers_too_large' },
    payloads: [BIG_QUERY.slice(0, 64)],
  },
];
