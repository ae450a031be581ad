import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { HIGH_RATE_LIMITS, inspectRedis, startTestSandbox } from '../support/harness';
import { KEY_A, startLenderServer, type LenderServer } from '../integrator/integrator-support';
import {
  closeClients,
  expectAnswer,
  expectNotEchoed,
  send,
  snapshotRedis,
  type Expectation,
  type Reply,
  type SendOptions,
} from './security-support';

/** Hostile input to every integrator route: the right error, nothing stored, nothing sent upstream, nothing echoed. */

let sandbox: Sandbox;
let server: LenderServer;
let redis: Awaited<ReturnType<typeof inspectRedis>>;
let existing: { id: string; start_url: string };
let ongoing: { id: string; start_url: string };

beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await inspectRedis();
  server = await startLenderServer(sandbox, HIGH_RATE_LIMITS);
  existing = (await server.lender().post('/verifications', { reference: 'corpus-1' }).expect(201)).body;
  ongoing = (
    await server.lender().post('/verifications', { reference: 'corpus-2', access: 'ongoing' }).expect(201)
  ).body;
});
afterAll(async () => {
  await server.close();
  await sandbox.close();
  await redis.close();
  closeClients();
});

interface Row {
  name: string;
  send(): Promise<Reply>;
  expect: Expectation;
  payloads: string[];
}

const SCRIPT = '<script>alert(1)</script>';
const CRLF = '\r\nSet-Cookie: injected=evil';
const NUL = 'nul\u0000marker';
const EMOJI = 'emoji\u{1F600}marker';
const AUTH = { authorization: `Bearer ${KEY_A}` };
const call = (method: string, path: string, options: SendOptions = {}) =>
  send(server.url, `/integrator/v1${path}`, {
    ...options,
    method,
    headers: { ...AUTH, ...options.headers },
  });
const create = (body: unknown, headers: Record<string, string> = {}) =>
  call('POST', '/verifications', {
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const enc = encodeURIComponent;
const id = () => existing.id;

const hostileValues: Array<[string, string]> = [
  ['a script tag', SCRIPT],
  ['a NUL byte', NUL],
  ['an emoji', EMOJI],
  ['65 characters', 'r'.repeat(65)],
  ['a space', 'app 1'],
  ['a slash', 'app/1'],
  ['an e-mail address', 'jane.doe@example.com'],
];

const rows: Row[] = [
  ...hostileValues.map(([label, value]): Row => ({
    name: `POST /verifications: reference with ${label} → 400 invalid_request`,
    send: () => create({ reference: value }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [value],
  })),
  ...hostileValues.map(([label, value]): Row => ({
    name: `GET /verifications?reference= with ${label} → 400 invalid_request`,
    send: () => call('GET', `/verifications?reference=${enc(value)}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [value],
  })),
  {
    name: 'POST /verifications: no reference → 400 invalid_request',
    send: () => create({}),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'POST /verifications: reference as a number → 400 invalid_request',
    send: () => create({ reference: 12345 }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'POST /verifications: reference as an array → 400 invalid_request',
    send: () => create({ reference: ['a', 'b'] }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'POST /verifications: an unknown field → 400 invalid_request, not echoed',
    send: () => create({ reference: 'ok-1', [SCRIPT]: 1 }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [SCRIPT],
  },
  {
    name: 'POST /verifications: __proto__ field → 400 invalid_request',
    send: () => create('{"reference":"ok-2","__proto__":{"polluted":true}}'),
    expect: { json: 400, code: 'invalid_request' },
    payloads: ['polluted'],
  },
  {
    name: 'POST /verifications: an invalid IBAN → 400 invalid_iban, not echoed',
    send: () => create({ reference: 'ok-3', iban: 'DE00' + SCRIPT }),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: [SCRIPT],
  },
  {
    name: 'POST /verifications: a valid IBAN with a wrong check sum → 400 invalid_iban',
    send: () => create({ reference: 'ok-4', iban: 'DE89370400440532013001' }),
    expect: { json: 400, code: 'invalid_iban' },
    payloads: ['DE89370400440532013001'],
  },
  {
    name: 'POST /verifications: an unknown language → 400 invalid_language',
    send: () => create({ reference: 'ok-5', language: 'xx' }),
    expect: { json: 400, code: 'invalid_language' },
    payloads: [],
  },
  {
    name: 'POST /verifications: broken JSON → 400 invalid_json',
    send: () => create('{"reference":'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: [],
  },
  {
    name: 'POST /verifications: JSON null → 400 invalid_json',
    send: () => create('null'),
    expect: { json: 400, code: 'invalid_json' },
    payloads: [],
  },
  {
    name: 'POST /verifications: a form body → 415 unsupported_media_type',
    send: () =>
      call('POST', '/verifications', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'reference=ok-6',
      }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'POST /verifications: JSON in latin1 → 415 unsupported_media_type',
    send: () => create({ reference: 'ok-7' }, { 'content-type': 'application/json; charset=latin1' }),
    expect: { json: 415, code: 'unsupported_media_type' },
    payloads: [],
  },
  {
    name: 'POST /verifications: a 20 KB body → 413 payload_too_large',
    send: () => create({ reference: 'ok-8', pad: 'x'.repeat(20_000) }),
    expect: { json: 413, code: 'payload_too_large' },
    payloads: [],
  },
  {
    name: 'POST /verifications: an Idempotency-Key with a control character → 400 invalid_request',
    send: () => create({ reference: 'ok-9' }, { 'idempotency-key': 'key\twith-tab' }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'POST /verifications: a 256-character Idempotency-Key → 400 invalid_request',
    send: () => create({ reference: 'ok-10' }, { 'idempotency-key': 'k'.repeat(256) }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'POST /verifications without a key → 401 unauthorized',
    send: () => create({ reference: 'ok-11' }, { authorization: '' }),
    expect: { json: 401, code: 'unauthorized' },
    payloads: [],
  },
  {
    name: 'POST /verifications with a key in a cookie only → 401 unauthorized',
    send: () => create({ reference: 'ok-12' }, { authorization: '', cookie: `key=${KEY_A}` }),
    expect: { json: 401, code: 'unauthorized' },
    payloads: [KEY_A],
  },
  {
    name: 'POST /verifications with the key as Basic → 401 unauthorized',
    send: () => create({ reference: 'ok-13' }, { authorization: `Basic ${KEY_A}` }),
    expect: { json: 401, code: 'unauthorized' },
    payloads: [KEY_A],
  },
  {
    name: 'POST /verifications with a key one character off → 401 unauthorized',
    send: () => create({ reference: 'ok-14' }, { authorization: `Bearer ${KEY_A.slice(0, -1)}x` }),
    expect: { json: 401, code: 'unauthorized' },
    payloads: [KEY_A],
  },
  {
    name: 'GET /verifications without reference → 400 invalid_request',
    send: () => call('GET', '/verifications'),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'GET /verifications with reference twice → 400 invalid_request',
    send: () => call('GET', '/verifications?reference=a&reference=b'),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'GET /verifications with another parameter → 400 invalid_request, not echoed',
    send: () => call('GET', `/verifications?reference=a&${enc(SCRIPT)}=1`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [SCRIPT],
  },
  ...[
    ['a script tag', enc(SCRIPT)],
    ['a path traversal', '..%2F..%2Fmeta'],
    ['a Redis glob', 'ver_*'],
    ['a hash tag', enc('ver_{v:x}')],
    ['a CRLF', enc(CRLF)],
    ['a too long id', 'ver_' + 'A'.repeat(200)],
  ].flatMap(([label, value]): Row[] => [
    {
      name: `GET /verifications/{id}: ${label} → 404 not_found`,
      send: () => call('GET', `/verifications/${value}`),
      expect: { json: 404, code: 'not_found' },
      payloads: [decodeURIComponent(value as string)],
    },
    {
      name: `GET /verifications/{id}/report: ${label} → 404 not_found`,
      send: () => call('GET', `/verifications/${value}/report`),
      expect: { json: 404, code: 'not_found' },
      payloads: [decodeURIComponent(value as string)],
    },
    {
      name: `POST /verifications/{id}/report-refresh: ${label} → 404 not_found`,
      send: () => call('POST', `/verifications/${value}/report-refresh`),
      expect: { json: 404, code: 'not_found' },
      payloads: [decodeURIComponent(value as string)],
    },
    {
      name: `DELETE /verifications/{id}: ${label} → 404 not_found`,
      send: () => call('DELETE', `/verifications/${value}`),
      expect: { json: 404, code: 'not_found' },
      payloads: [decodeURIComponent(value as string)],
    },
  ]),
  {
    name: 'GET /verifications/{id} with a query → 400 invalid_request',
    send: () => call('GET', `/verifications/${id()}?x=${enc(SCRIPT)}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [SCRIPT],
  },
  {
    name: 'GET /verifications/{id}/report before it is ready → 409 report_not_ready',
    send: () => call('GET', `/verifications/${id()}/report`),
    expect: { json: 409, code: 'report_not_ready' },
    payloads: [],
  },
  {
    name: 'GET /verifications/{id} without a key → 401 unauthorized (no existence oracle)',
    send: () => call('GET', `/verifications/${id()}`, { headers: { authorization: '' } }),
    expect: { json: 401, code: 'unauthorized' },
    payloads: [],
  },
  {
    name: 'PUT /verifications/{id} → 405 method_not_allowed',
    send: () => call('PUT', `/verifications/${id()}`),
    expect: { json: 405, code: 'method_not_allowed' },
    payloads: [],
  },
  {
    name: 'PATCH /verifications → 405 method_not_allowed',
    send: () => call('PATCH', '/verifications'),
    expect: { json: 405, code: 'method_not_allowed' },
    payloads: [],
  },
  {
    name: 'POST /verifications/{id}/report → 405 method_not_allowed',
    send: () => call('POST', `/verifications/${id()}/report`),
    expect: { json: 405, code: 'method_not_allowed' },
    payloads: [],
  },
  ...[
    ['an unknown kind', 'forever'],
    ['a script tag', SCRIPT],
    ['upper case', 'ONGOING'],
  ].map(([label, value]): Row => ({
    name: `POST /verifications: access with ${label} → 400 invalid_request, not echoed`,
    send: () => create({ reference: 'ok-access', access: value }),
    expect: { json: 400, code: 'invalid_request' },
    // The message names the two kinds, so an upper-case "ONGOING" matches it without being echoed.
    payloads: label === 'upper case' ? [] : [value as string],
  })),
  {
    name: 'POST /verifications: access as a boolean → 400 invalid_request',
    send: () => create({ reference: 'ok-access', access: true }),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [],
  },
  {
    name: 'POST /verifications/{id}/report-refresh of a one-time verification → 409 access_not_ongoing',
    send: () => call('POST', `/verifications/${id()}/report-refresh`),
    expect: { json: 409, code: 'access_not_ongoing' },
    payloads: [],
  },
  {
    name: 'POST /verifications/{id}/report-refresh before the first report → 409 report_not_ready',
    send: () => call('POST', `/verifications/${ongoing.id}/report-refresh`),
    expect: { json: 409, code: 'report_not_ready' },
    payloads: [],
  },
  {
    name: 'POST /verifications/{id}/report-refresh of an unknown id → 404 not_found',
    send: () => call('POST', `/verifications/ver_${'A'.repeat(22)}/report-refresh`),
    expect: { json: 404, code: 'not_found' },
    payloads: [],
  },
  {
    name: 'POST /verifications/{id}/report-refresh with a query → 400 invalid_request, not echoed',
    send: () => call('POST', `/verifications/${ongoing.id}/report-refresh?x=${enc(SCRIPT)}`),
    expect: { json: 400, code: 'invalid_request' },
    payloads: [SCRIPT],
  },
  {
    name: 'POST /verifications/{id}/report-refresh without a key → 401 unauthorized',
    send: () =>
      call('POST', `/verifications/${ongoing.id}/report-refresh`, { headers: { authorization: '' } }),
    expect: { json: 401, code: 'unauthorized' },
    payloads: [],
  },
  {
    name: 'GET /verifications/{id}/report-refresh → 405 method_not_allowed',
    send: () => call('GET', `/verifications/${ongoing.id}/report-refresh`),
    expect: { json: 405, code: 'method_not_allowed' },
    payloads: [],
  },
  {
    name: 'an unknown integrator path → 404 not_found, not echoed',
    send: () => call('GET', `/${enc(SCRIPT)}`),
    expect: { json: 404, code: 'not_found' },
    payloads: [SCRIPT],
  },
  {
    name: 'an unknown integrator path without a key → 401 unauthorized',
    send: () => call('GET', '/admin', { headers: { authorization: '' } }),
    expect: { json: 401, code: 'unauthorized' },
    payloads: [],
  },
];

describe('the integrator API refuses hostile input and changes nothing', () => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const before = await snapshotRedis(redis, server.prefix);
    const statsBefore = sandbox.stats();
    const reply = await row.send();
    expectAnswer(reply, row.expect);
    expect(reply.headers['set-cookie']).toBeUndefined();
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expect(reply.headers['cache-control']).toBe('no-store');
    expectNotEchoed(reply, [...row.payloads, KEY_A]);
    expect(await snapshotRedis(redis, server.prefix)).toEqual(before);
    expect(sandbox.stats()).toEqual(statsBefore);
    expect(server.logs.text()).not.toContain(KEY_A);
  });
});
