import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { HIGH_RATE_LIMITS, inspectRedis, startTestSandbox } from '../support/harness';
import { KEY_A } from '../integrator/integrator-support';
import {
  createVerification,
  startWebhookSetup,
  waitUntil,
  type WebhookSetup,
} from '../integrator/webhook-support';
import { closeClients, expectNotEchoed, send, snapshotRedis, type Reply } from './security-support';
import { Applicant } from '../support/applicant';

// The webhook routes of the integrator API (dead letters, redeliver, catch-up) under hostile input:
// the right status and code, nothing stored, nothing queued or sent, nothing echoed.

let sandbox: Sandbox;
let setup: WebhookSetup;
let redis: Awaited<ReturnType<typeof inspectRedis>>;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  redis = await inspectRedis();
  setup = await startWebhookSetup(sandbox, { env: HIGH_RATE_LIMITS });
  // One real event in the log, delivered, so there is something a hostile request could disturb.
  const made = await createVerification(setup.server, 'sec-1');
  await new Applicant(setup.server.url).cancelFlow(made.start_url);
  await waitUntil('the delivery', () => setup.receiver.deliveries.length === 1);
});
afterAll(async () => {
  await setup.close();
  await sandbox.close();
  await redis.close();
  closeClients();
});

const SCRIPT = '<script>alert(1)</script>';
const NUL = 'nul\u0000marker';
const WRONG_KEY = 'wrong-key-' + 'w'.repeat(40);
const enc = encodeURIComponent;
const AUTH = { authorization: `Bearer ${KEY_A}` };
const call = (method: string, path: string, headers: Record<string, string> = AUTH, body?: string) =>
  send(setup.server.url, `/integrator/v1${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });

interface Row {
  name: string;
  send(): Promise<Reply>;
  status: number;
  code: string;
  payloads: string[];
}

const rows: Row[] = [
  {
    name: 'GET /events without a key',
    send: () => call('GET', '/events', {}),
    status: 401,
    code: 'unauthorized',
    payloads: [],
  },
  {
    name: 'GET /events with a wrong key',
    send: () => call('GET', '/events', { authorization: `Bearer ${WRONG_KEY}` }),
    status: 401,
    code: 'unauthorized',
    payloads: [WRONG_KEY],
  },
  {
    name: 'GET /events with XSS as the cursor',
    send: () => call('GET', `/events?after=${enc(SCRIPT)}`),
    status: 400,
    code: 'invalid_request',
    payloads: [SCRIPT],
  },
  {
    name: 'GET /events with a NUL byte in the cursor',
    send: () => call('GET', `/events?after=${enc(NUL)}`),
    status: 400,
    code: 'invalid_request',
    payloads: [NUL],
  },
  {
    name: 'GET /events with a 17-digit cursor',
    send: () => call('GET', '/events?after=12345678901234567'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'GET /events with a negative cursor',
    send: () => call('GET', '/events?after=-5'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'GET /events with the cursor twice',
    send: () => call('GET', '/events?after=1&after=2'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'GET /events with a cursor array',
    send: () => call('GET', '/events?after[]=1'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'GET /events with limit=0',
    send: () => call('GET', '/events?limit=0'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'GET /events with limit=100000',
    send: () => call('GET', '/events?limit=100000'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'GET /events with an XSS parameter name',
    send: () => call('GET', `/events?${enc(SCRIPT)}=1`),
    status: 400,
    code: 'invalid_request',
    payloads: [SCRIPT],
  },
  {
    name: 'POST /events',
    send: () => call('POST', '/events', { ...AUTH, 'content-type': 'application/json' }, '{}'),
    status: 405,
    code: 'method_not_allowed',
    payloads: [],
  },
  {
    name: 'GET /webhook-deliveries without status',
    send: () => call('GET', '/webhook-deliveries'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'GET /webhook-deliveries with XSS as the status',
    send: () => call('GET', `/webhook-deliveries?status=${enc(SCRIPT)}`),
    status: 400,
    code: 'invalid_request',
    payloads: [SCRIPT],
  },
  {
    name: 'GET /webhook-deliveries with status twice',
    send: () => call('GET', '/webhook-deliveries?status=failed&status=failed'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'GET /webhook-deliveries with limit=-1',
    send: () => call('GET', '/webhook-deliveries?status=failed&limit=-1'),
    status: 400,
    code: 'invalid_request',
    payloads: [],
  },
  {
    name: 'DELETE /webhook-deliveries',
    send: () => call('DELETE', '/webhook-deliveries'),
    status: 405,
    code: 'method_not_allowed',
    payloads: [],
  },
  {
    name: 'GET /webhook-deliveries without a key',
    send: () => call('GET', '/webhook-deliveries?status=failed', {}),
    status: 401,
    code: 'unauthorized',
    payloads: [],
  },
  {
    name: 'redeliver with XSS as the id',
    send: () => call('POST', `/webhook-deliveries/${enc(SCRIPT)}/redeliver`),
    status: 404,
    code: 'not_found',
    payloads: [SCRIPT],
  },
  {
    name: 'redeliver with a path traversal as the id',
    send: () => call('POST', '/webhook-deliveries/..%2F..%2Fevents/redeliver'),
    status: 404,
    code: 'not_found',
    payloads: [],
  },
  {
    name: 'redeliver with a lower-case id',
    send: () => call('POST', `/webhook-deliveries/msg_${'a'.repeat(26)}/redeliver`),
    status: 404,
    code: 'not_found',
    payloads: [],
  },
  {
    name: 'redeliver an unknown well-formed id',
    send: () => call('POST', `/webhook-deliveries/msg_${'Z'.repeat(26)}/redeliver`),
    status: 404,
    code: 'not_found',
    payloads: [],
  },
  {
    name: 'redeliver with a query',
    send: () => call('POST', `/webhook-deliveries/msg_${'Z'.repeat(26)}/redeliver?x=${enc(SCRIPT)}`),
    status: 400,
    code: 'invalid_request',
    payloads: [SCRIPT],
  },
  {
    name: 'redeliver without a key',
    send: () => call('POST', `/webhook-deliveries/msg_${'Z'.repeat(26)}/redeliver`, {}),
    status: 401,
    code: 'unauthorized',
    payloads: [],
  },
  {
    name: 'GET on redeliver',
    send: () => call('GET', `/webhook-deliveries/msg_${'Z'.repeat(26)}/redeliver`),
    status: 405,
    code: 'method_not_allowed',
    payloads: [],
  },
];

describe('the webhook routes refuse hostile input and change nothing', () => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const runtime = setup.server.runtime;
    const redisBefore = await snapshotRedis(redis, setup.server.prefix);
    const logBefore = await runtime.events.page(undefined, 500);
    const deadBefore = await runtime.events.deadLetters(500);
    const jobsBefore = await runtime.jobs.counts();
    const sentBefore = setup.receiver.deliveries.length;

    const reply = await row.send();

    expect([reply.status, reply.text.slice(0, 200)]).toEqual([row.status, reply.text.slice(0, 200)]);
    expect(reply.json).toEqual({
      error: { code: row.code, message: expect.any(String), requestId: expect.any(String) },
    });
    expect(reply.headers['set-cookie']).toBeUndefined();
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expectNotEchoed(reply, [...row.payloads, KEY_A]);
    expect(await snapshotRedis(redis, setup.server.prefix)).toEqual(redisBefore);
    expect(await runtime.events.page(undefined, 500)).toEqual(logBefore);
    expect(await runtime.events.deadLetters(500)).toEqual(deadBefore);
    const jobsAfter = await runtime.jobs.counts();
    expect([jobsAfter.waiting, jobsAfter.active]).toEqual([jobsBefore.waiting, jobsBefore.active]);
    expect(setup.receiver.deliveries.length).toBe(sentBefore);
    expect(setup.server.logs.text()).not.toContain(KEY_A);
  });
});
