import fc from 'fast-check';
import { MAX_CODE_LENGTH } from '../../src/http/input-schemas';
import { HIGH_RATE_LIMITS, useSharedServer } from '../support/harness';
import { Applicant } from '../support/applicant';
import { approvedBy, closeClients, send, sessionCookieOf, type Reply } from './security-support';

// 2,000 requests in one property: about 15 s on an idle 2-core machine; room for a busy one.
jest.setTimeout(120_000);

/**
 * Random callbacks against a model of the contract: the server must never fail (5xx), must only
 * redirect to the configured return URL, and must reach the provider's token endpoint exactly when
 * a browser sends a well-formed callback with the state of its own pending flow.
 */

const shared = useSharedServer({ env: HIGH_RATE_LIMITS });
beforeAll(async () => {
  for (let i = 0; i < SESSION_AGENTS; i++) {
    const agent: Agent = { cookie: undefined };
    agents.push(agent);
    for (let f = 0; f < 2; f++) await addFlow(i);
  }
});
afterAll(() => {
  closeClients();
});

// ---- the model -------------------------------------------------------------------------------

const SESSION_AGENTS = 3;
interface Agent {
  cookie: string | undefined;
}
interface KnownFlow {
  owner: number;
  state: string;
  code: string;
  flowId: string;
  pending: boolean;
}
const agents: Agent[] = [];
/** Every flow started so far: the source of "valid" values, pending or not, of every browser. */
const flows: KnownFlow[] = [];
/** Codes the provider already exchanged (a code works once). */
const spentCodes = new Set<string>();

async function addFlow(owner: number): Promise<void> {
  const agent = agents[owner] as Agent;
  const flow = await approvedBy(new Applicant(shared.server.url, agent.cookie));
  agent.cookie = flow.cookie;
  flows.push({ owner, state: flow.state, code: flow.code, flowId: flow.flowId, pending: true });
}

type Outcome =
  | { kind: 'completed' }
  | { kind: 'cancelled' }
  | { kind: 'failed'; reason: string }
  /** Refused before any outcome is recorded. */
  | { kind: 'refused'; code: 'invalid_callback' | 'invalid_state' };

const TOKEN = /^[\x21-\x7e]+$/;
const isToken = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length <= max && TOKEN.test(v);
const isBool = (v: unknown): v is 'true' | 'false' => v === 'true' || v === 'false';
/** JSON bodies may carry the flags as booleans too (the widget's newer message). */
const isJsonBool = (v: unknown): boolean => isBool(v) || typeof v === 'boolean';
const isTrue = (v: unknown): boolean => v === 'true' || v === true;
const FIELDS = ['state', 'success', 'cancel', 'abort', 'code', 'flow_id'];

/** What the contract says should happen; updates the model (consumed flows, spent codes). */
function predict(
  agentIndex: AgentChoice,
  pairs: Array<[string, unknown]>,
  strict: boolean,
): Outcome & { exchanges: number } {
  const byName = new Map<string, unknown[]>();
  for (const [name, value] of pairs) byName.set(name, [...(byName.get(name) ?? []), value]);
  const one = (name: string): unknown => {
    const values = byName.get(name);
    if (values === undefined) return undefined;
    return values.length === 1 ? values[0] : values;
  };
  const state = one('state');
  const success = one('success');
  const cancelFlag = one('cancel');
  const abort = one('abort');
  const code = one('code');
  const flowId = one('flow_id');
  const flag = strict ? isJsonBool : isBool;
  const cancel = isTrue(cancelFlag) || isTrue(abort);
  const wellFormed =
    isToken(state, 512) &&
    flag(success) &&
    (cancelFlag === undefined || flag(cancelFlag)) &&
    (abort === undefined || flag(abort)) &&
    (code === undefined || isToken(code, MAX_CODE_LENGTH)) &&
    (flowId === undefined || isToken(flowId, 256)) &&
    !(isTrue(success) && !cancel && code === undefined) &&
    (!strict || [...byName.keys()].every((k) => FIELDS.includes(k)));
  const refused = (c: 'invalid_callback' | 'invalid_state') => ({
    kind: 'refused' as const,
    code: c,
    exchanges: 0,
  });
  if (!wellFormed) return refused('invalid_callback');
  if (typeof agentIndex !== 'number') return refused('invalid_state');
  const flow = flows.find((f) => f.pending && f.state === state);
  if (!flow || flow.owner !== agentIndex) return refused('invalid_state');
  if (flowId !== undefined && flowId !== flow.flowId) return refused('invalid_callback');
  flow.pending = false;
  if (cancel) return { kind: 'cancelled', exchanges: 0 };
  if (!isTrue(success)) return { kind: 'failed', reason: 'bank_connection_failed', exchanges: 0 };
  const accepted = flows.some((f) => f.code === code) && !spentCodes.has(code as string);
  spentCodes.add(code as string);
  return accepted
    ? { kind: 'completed', exchanges: 1 }
    : { kind: 'failed', reason: 'code_rejected', exchanges: 1 };
}

// ---- what is sent ----------------------------------------------------------------------------

/** A value refers to the model, so it can name "this browser's pending state" before it exists. */
type Value =
  | { ref: 'own'; field: 'state' | 'code' | 'flowId' }
  | { ref: 'pool'; field: 'state' | 'code' | 'flowId'; index: number }
  | { literal: unknown };

const hostile = fc.constantFrom(
  '',
  'true',
  'false',
  'TRUE',
  '1',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  "' OR 1=1 --",
  '\r\nSet-Cookie: injected=evil',
  '%0d%0a',
  '\u0000',
  '\u202e',
  '\u{1F600}',
  'https://evil.example',
  '//evil.example',
  '__proto__',
);
const randomString = fc.oneof(
  hostile,
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: fc.constantFrom('a', 'Z', '9', '-', '_', '~'), minLength: 300, maxLength: 700 }),
);
const jsonOnly = fc.constantFrom<unknown>(true, false, 0, 1, null, {}, [], { $ne: null });

const ref = (field: 'state' | 'code' | 'flowId'): fc.Arbitrary<Value> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<Value>({ ref: 'own', field }) },
    { weight: 2, arbitrary: fc.nat(1000).map<Value>((index) => ({ ref: 'pool', field, index })) },
  );
const literal = (json: boolean): fc.Arbitrary<Value> =>
  (json
    ? fc.oneof(
        { weight: 5, arbitrary: randomString as fc.Arbitrary<unknown> },
        { weight: 1, arbitrary: jsonOnly },
      )
    : randomString
  ).map<Value>((value) => ({ literal: value }));
const boolish = (json: boolean) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<Value>({ literal: 'true' }, { literal: 'false' }) },
    { weight: 1, arbitrary: literal(json) },
  );

/** Absent, once (most of the time), or repeated: `?k=a&k=b` (or an array in JSON). */
const field = (name: string, value: fc.Arbitrary<Value>, presence: number) =>
  fc
    .oneof(
      { weight: 10 - presence, arbitrary: fc.constant<Value[]>([]) },
      { weight: presence, arbitrary: value.map((v) => [v]) },
      { weight: 1, arbitrary: fc.array(value, { minLength: 2, maxLength: 3 }) },
    )
    .map((values) => values.map((v) => [name, v] as [string, Value]));

const extraName = fc.oneof(
  fc.constantFrom(
    'redirect_uri',
    'return_to',
    'next',
    'state[x]',
    'code[]',
    'STATE',
    'Success',
    '__proto__',
    'constructor',
    'flowId',
    'abort',
    '',
  ),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
);

type AgentChoice = number | 'none' | 'forged';
const agentChoice = fc.constantFrom<AgentChoice>(0, 1, 2, 0, 1, 2, 'none', 'forged');
interface CallbackInput {
  agent: AgentChoice;
  pairs: Array<[string, Value]>;
}

/** Any mix of the five fields and extra keys. */
const randomInput = (json: boolean): fc.Arbitrary<CallbackInput> =>
  fc
    .record({
      agent: agentChoice,
      fields: fc.tuple(
        field(
          'state',
          fc.oneof({ weight: 4, arbitrary: ref('state') }, { weight: 1, arbitrary: literal(json) }),
          8,
        ),
        field('success', boolish(json), 8),
        field('cancel', boolish(json), 3),
        field(
          'code',
          fc.oneof({ weight: 4, arbitrary: ref('code') }, { weight: 1, arbitrary: literal(json) }),
          7,
        ),
        field(
          'flow_id',
          fc.oneof({ weight: 4, arbitrary: ref('flowId') }, { weight: 1, arbitrary: literal(json) }),
          5,
        ),
      ),
      extras: fc.array(fc.tuple(extraName, literal(json)), { maxLength: 3 }),
      reverse: fc.boolean(),
    })
    .map(({ agent, fields, extras, reverse }) => {
      const pairs = [...fields.flat(), ...extras];
      return { agent, pairs: reverse ? pairs.reverse() : pairs };
    });

type Mutation =
  | { op: 'drop' | 'duplicate'; index: number }
  | { op: 'replace'; index: number; value: Value }
  | { op: 'extra'; name: string; value: Value };

/** The widget's own callback for this browser's pending flow, then zero to two small changes: the near misses. */
const nearValidInput = (json: boolean): fc.Arbitrary<CallbackInput> =>
  fc
    .record({
      agent: agentChoice,
      success: fc.constantFrom('true', 'true', 'false'),
      cancel: fc.constantFrom(undefined, undefined, 'true', 'false'),
      withFlowId: fc.boolean(),
      mutations: fc.array(
        fc.oneof<fc.Arbitrary<Mutation>[]>(
          fc.record({ op: fc.constantFrom<'drop' | 'duplicate'>('drop', 'duplicate'), index: fc.nat(4) }),
          fc.record({
            op: fc.constant<'replace'>('replace'),
            index: fc.nat(4),
            value: fc.oneof(literal(json), ref('state'), ref('code'), ref('flowId')),
          }),
          fc.record({ op: fc.constant<'extra'>('extra'), name: extraName, value: literal(json) }),
        ),
        { maxLength: 2 },
      ),
    })
    .map(({ agent, success, cancel, withFlowId, mutations }) => {
      let pairs: Array<[string, Value]> = [
        ['state', { ref: 'own', field: 'state' }],
        ['success', { literal: success }],
        ...(cancel === undefined ? [] : [['cancel', { literal: cancel }] as [string, Value]]),
        ['code', { ref: 'own', field: 'code' }],
        ...(withFlowId ? [['flow_id', { ref: 'own', field: 'flowId' }] as [string, Value]] : []),
      ];
      for (const m of mutations) {
        if (m.op === 'extra') {
          pairs = [...pairs, [m.name, m.value]];
          continue;
        }
        const at = m.index % pairs.length;
        const target = pairs[at] as [string, Value];
        if (m.op === 'replace') {
          const value = m.value;
          pairs = pairs.map((p, i) => (i === at ? [target[0], value] : p));
        } else if (m.op === 'drop') pairs = pairs.filter((_, i) => i !== at);
        else pairs = [...pairs, target];
      }
      return { agent, pairs };
    });

// JSON bodies with any extra field are refused, so random ones rarely get past the schema: more near misses there.
const callbackInput = (json: boolean) =>
  fc.oneof(
    { weight: 1, arbitrary: randomInput(json) },
    { weight: json ? 3 : 1, arbitrary: nearValidInput(json) },
  );

function resolve(agent: AgentChoice, value: Value): unknown {
  if ('literal' in value) return value.literal;
  if (value.ref === 'pool') return (flows[value.index % flows.length] as KnownFlow)[value.field];
  // "Own": this browser's pending flow; for a browser without a session, someone else's.
  const owner = typeof agent === 'number' ? agent : 0;
  const flow = flows.find((f) => f.pending && f.owner === owner) ?? (flows[0] as KnownFlow);
  return flow[value.field];
}

const cookieFor = (agent: AgentChoice) =>
  agent === 'none'
    ? undefined
    : agent === 'forged'
      ? 'bff.sid=s%3Aforged-id.forged-signature'
      : (agents[agent] as Agent).cookie;

/** Checked before the request: the exact state of a flow this browser started and has not finished. */
const isOwnPendingState = (agent: AgentChoice, sentStates: unknown[]) =>
  typeof agent === 'number' &&
  sentStates.length === 1 &&
  flows.some((f) => f.pending && f.owner === agent && f.state === sentStates[0]);

const exchanges = () => shared.sandbox.stats().codeExchanges + shared.sandbox.stats().codeExchangesRejected;
const seen = new Map<string, number>();
const count = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);

async function afterConsumption(agent: AgentChoice, reply: Reply): Promise<void> {
  if (typeof agent !== 'number') return;
  const state = agents[agent] as Agent;
  state.cookie = sessionCookieOf(reply) ?? state.cookie;
  if (!flows.some((f) => f.pending && f.owner === agent)) await addFlow(agent);
}

/** The generator must reach every branch, or the properties prove little. */
function expectReached(labels: string[], atLeast: number): void {
  const short = labels.filter((l) => (seen.get(l) ?? 0) < atLeast).map((l) => `${l}: ${seen.get(l) ?? 0}`);
  expect({ short, seen: Object.fromEntries(seen) }).toEqual({ short: [], seen: Object.fromEntries(seen) });
}

const outcomeLabel = (o: Outcome) =>
  o.kind === 'refused' ? o.code : o.kind === 'failed' ? `failed:${o.reason}` : o.kind;

describe('GET /callback under random queries', () => {
  it('never fails, only redirects to the return URL, and exchanges a code only for the own pending state', async () => {
    const linksBefore = shared.sandbox.stats().linksCreated;
    await fc.assert(
      fc.asyncProperty(callbackInput(false), async ({ agent, pairs: input }) => {
        const pairs: Array<[string, string]> = input.map(([name, value]) => [
          name,
          String(resolve(agent, value)),
        ]);
        const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const path = `/callback${query ? '?' + query : ''}`;
        fc.pre(path.length <= 8192);
        const sentOwnPendingState = isOwnPendingState(
          agent,
          pairs.filter(([k]) => k === 'state').map(([, v]) => v),
        );

        const before = exchanges();
        const links = shared.sandbox.stats().linksCreated;
        const expected = predict(agent, pairs, false);
        const reply = await send(shared.server.url, path, { cookie: cookieFor(agent) });
        count(outcomeLabel(expected));

        expect(reply.status).toBeLessThan(500);
        expect(reply.status).toBe(302);
        const location = String(reply.headers.location);
        expect(location.startsWith('/?verification=')).toBe(true);
        const wanted =
          expected.kind === 'refused'
            ? `/?verification=failed&reason=${expected.code}`
            : expected.kind === 'failed'
              ? `/?verification=failed&reason=${expected.reason}`
              : `/?verification=${expected.kind}`;
        expect({ location, pairs }).toEqual({ location: wanted, pairs });
        const delta = exchanges() - before;
        expect(delta).toBe(expected.exchanges);
        if (delta > 0) expect(sentOwnPendingState).toBe(true);
        expect(shared.sandbox.stats().linksCreated).toBe(links);
        if (expected.kind !== 'refused') await afterConsumption(agent, reply);
      }),
      { numRuns: 2000, endOnFailure: true },
    );
    expectReached(
      [
        'completed',
        'cancelled',
        'failed:bank_connection_failed',
        'failed:code_rejected',
        'invalid_state',
        'invalid_callback',
      ],
      3,
    );
    expect(shared.sandbox.stats().linksCreated - linksBefore).toBe(flows.length - SESSION_AGENTS * 2);
  });
});

describe('POST /api/verification/callback under random bodies', () => {
  it('never fails, answers the JSON contract, and exchanges a code only for the own pending state', async () => {
    seen.clear();
    await fc.assert(
      fc.asyncProperty(callbackInput(true), async ({ agent, pairs: input }) => {
        const pairs: Array<[string, unknown]> = input.map(([name, value]) => [name, resolve(agent, value)]);
        // Repeated names become an array, as a client merging query parameters would send them.
        const body: Record<string, unknown> = {};
        const grouped = new Map<string, unknown[]>();
        for (const [k, v] of pairs) grouped.set(k, [...(grouped.get(k) ?? []), v]);
        for (const [k, vs] of grouped)
          Object.defineProperty(body, k, { value: vs.length === 1 ? vs[0] : vs, enumerable: true });
        const modelPairs: Array<[string, unknown]> = [...grouped].map(([k, vs]) => [
          k,
          vs.length === 1 ? vs[0] : vs,
        ]);
        const sentOwnPendingState = isOwnPendingState(agent, [body.state]);

        const before = exchanges();
        const expected = predict(agent, modelPairs, true);
        const reply = await send(shared.server.url, '/api/verification/callback', {
          method: 'POST',
          cookie: cookieFor(agent),
          headers: {
            'content-type': 'application/json',
            'sec-fetch-site': 'same-origin',
            origin: shared.server.url,
          },
          body: JSON.stringify(body),
        });
        count(outcomeLabel(expected));

        expect(reply.status).toBeLessThan(500);
        expect(reply.headers.location).toBeUndefined();
        const wanted =
          expected.kind === 'refused'
            ? {
                status: 400,
                json: {
                  error: {
                    code: expected.code,
                    message: expect.any(String),
                    requestId: reply.headers['x-request-id'],
                  },
                },
              }
            : expected.kind === 'failed'
              ? {
                  status: 200,
                  json: { status: 'failed', error: { code: expected.reason, message: expect.any(String) } },
                }
              : {
                  status: 200,
                  json: { status: expected.kind === 'completed' ? 'processing' : 'cancelled', error: null },
                };
        expect({ status: reply.status, json: reply.json, body }).toEqual({ ...wanted, body });
        const delta = exchanges() - before;
        expect(delta).toBe(expected.exchanges);
        if (delta > 0) expect(sentOwnPendingState).toBe(true);
        if (expected.kind !== 'refused') await afterConsumption(agent, reply);
      }),
      { numRuns: 400, endOnFailure: true },
    );
    expectReached(
      ['completed', 'cancelled', 'failed:bank_connection_failed', 'invalid_state', 'invalid_callback'],
      3,
    );
  });
});
