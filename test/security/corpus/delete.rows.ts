import { send } from '../security-support';
import { target, SCRIPT, EVIL, qs, own, used, del, JSON_TYPE, type Row } from './corpus';

export const deleteRows: Row[] = [
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
      send(target.url, `/api/verification${qs(['x', SCRIPT])}`, { method: 'DELETE', headers: JSON_TYPE }),
    expect: { ok: 204 },
    payloads: [SCRIPT],
  },
];
