import { HIGH_RATE_LIMITS, useSharedServer } from '../support/harness';
import { callbackRows } from './corpus/callback.rows';
import {
  EVIL,
  JS_URL,
  callbackBody,
  callbackQuery,
  get,
  postJson,
  qs,
  target,
  type Need,
  type Row,
  type Scene,
} from './corpus/corpus';
import { deleteRows } from './corpus/delete.rows';
import { everyParameterRows } from './corpus/every-parameter.rows';
import { headerRows } from './corpus/headers.rows';
import { healthAndUnknownRows } from './corpus/health-and-unknown.rows';
import { pollRows } from './corpus/poll.rows';
import { postCallbackRows } from './corpus/post-callback.rows';
import { postStartRows } from './corpus/post-start.rows';
import { startRows } from './corpus/start.rows';
import {
  approvedBy,
  closeClients,
  describeExpectation,
  expectAnswer,
  expectNotEchoed,
  snapshotRedis,
} from './security-support';
import { Applicant } from '../support/applicant';

// The runner of the hostile-input corpus for the applicant's routes: the rows live in ./corpus, one
// file per endpoint; every row is sent to a real server and must change nothing anywhere.

const shared = useSharedServer({ env: HIGH_RATE_LIMITS });
beforeAll(() => {
  target.url = shared.server.url;
});
afterAll(() => {
  closeClients();
});

const groups: Array<[string, Row[]]> = [
  ['GET /verification/start', startRows],
  ['POST /api/verification', postStartRows],
  ['GET /callback', callbackRows],
  ['POST /api/verification/callback', postCallbackRows],
  ['GET /api/verification', pollRows],
  ['DELETE /api/verification', deleteRows],
  ['/healthz, /readyz and unknown paths', healthAndUnknownRows],
  ['request headers', headerRows],
  ['every parameter', everyParameterRows],
];

async function prepare(needs: Need[] = []): Promise<Scene> {
  const scene: Scene = {};
  if (needs.includes('own')) scene.own = await approvedBy(new Applicant(shared.server.url));
  if (needs.includes('other')) scene.other = await approvedBy(new Applicant(shared.server.url));
  if (needs.includes('used')) {
    // Completed, its report written: replaying its callback must change nothing.
    const applicant = new Applicant(shared.server.url);
    const back = await applicant.completeFlow();
    await applicant.poll(['ready']);
    scene.used = { ...back, cookie: applicant.session };
  }
  return scene;
}

/** The scene's states and codes are secrets: no answer may carry them either. */
const secretsOf = (scene: Scene) => Object.values(scene).flatMap((f) => [f.state, f.code]);

describe.each(groups)('%s refuses hostile input and changes nothing', (_group, rows) => {
  it.each(rows.map((row) => [`${row.name} → ${describeExpectation(row.expect)}`, row] as const))(
    '%s',
    async (_title, row) => {
      const scene = await prepare(row.needs);
      const redisBefore = await snapshotRedis(shared.redis, shared.server.prefix);
      const statsBefore = shared.sandbox.stats();
      const logsBefore = shared.server.logs.lines.length;

      const reply = await row.send(scene);

      expectAnswer(reply, row.expect);
      expect(reply.headers['set-cookie']).toBeUndefined();
      expect(reply.headers['access-control-allow-origin']).toBeUndefined();
      expectNotEchoed(reply, [...row.payloads, ...secretsOf(scene)]);
      if (!('protocol' in row.expect)) {
        // A request id is ours, or a well-formed one the client sent: never a hostile header value.
        expect(reply.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{8,64}$/);
      }
      expect(await snapshotRedis(shared.redis, shared.server.prefix)).toEqual(redisBefore);
      expect(shared.sandbox.stats()).toEqual(statsBefore);
      const logged = shared.server.logs.lines.slice(logsBefore).join('');
      for (const secret of secretsOf(scene)) expect(logged).not.toContain(secret);
    },
  );
});

describe('after hostile callbacks the real flow still works', () => {
  it('a flow attacked with forged, cross-session and malformed callbacks completes with its own', async () => {
    const victim = await approvedBy(new Applicant(shared.server.url));
    const attacker = await approvedBy(new Applicant(shared.server.url));
    const attempts = [
      get(`/callback${victim.search}`, { cookie: attacker.cookie }),
      get(`/callback${victim.search}`),
      get(`/callback${callbackQuery(victim, { code: "' OR 1=1" })}`, { cookie: victim.cookie }),
      get(`/callback${callbackQuery(victim, { flow_id: attacker.flowId })}`, { cookie: victim.cookie }),
      postJson('/api/verification/callback', callbackBody(victim), { cookie: attacker.cookie }),
    ];
    for (const reply of await Promise.all(attempts)) expect(reply.status).toBeGreaterThanOrEqual(300);
    const exchangesBefore = shared.sandbox.stats().codeExchanges;
    const done = await get(`/callback${victim.search}`, { cookie: victim.cookie });
    expect(done.headers.location).toBe('/?verification=completed');
    expect(shared.sandbox.stats().codeExchanges).toBe(exchangesBefore + 1);
  });

  it('keeps a well-formed X-Request-Id (so the echo check above can see one)', async () => {
    const reply = await get('/nowhere', { headers: { 'x-request-id': 'client-request-id-42' } });
    expect(reply.headers['x-request-id']).toBe('client-request-id-42');
    expect(() => expectNotEchoed(reply, ['client-request-id-42'])).toThrow(/echoes/);
  });
});

describe('open redirects: the callback only ever goes to the configured return URL', () => {
  const hostile: Array<[string, Array<[string, string]>]> = [
    ['redirect_uri', [['redirect_uri', `${EVIL}/cb`]]],
    ['return_to', [['return_to', '//evil.example']]],
    ['next', [['next', 'https:evil.example']]],
    [
      'all of them, plus a url and a javascript: target',
      [
        ['redirect_uri', EVIL],
        ['return_to', '/\\evil.example'],
        ['next', JS_URL],
        ['url', EVIL],
        ['target', EVIL],
      ],
    ],
  ];

  it.each(hostile)('a completed flow with %s', async (_name, extras) => {
    const flow = await approvedBy(new Applicant(shared.server.url));
    const reply = await get(`/callback${flow.search}&${qs(...extras).slice(1)}`, { cookie: flow.cookie });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('/?verification=completed');
    expectNotEchoed(reply, ['evil.example', JS_URL]);
  });

  it.each(hostile)('a cancelled flow with %s', async (_name, extras) => {
    const flow = await approvedBy(new Applicant(shared.server.url));
    const query = callbackQuery(flow, { success: 'false', cancel: 'true', code: undefined });
    const reply = await get(`/callback${query}&${qs(...extras).slice(1)}`, { cookie: flow.cookie });
    expect(reply.headers.location).toBe('/?verification=cancelled');
    expectNotEchoed(reply, ['evil.example', JS_URL]);
  });
});

describe('GET /metrics after the whole corpus', () => {
  it('carries none of the hostile values (labels are fixed, never taken from requests)', async () => {
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('bff_verification_events_total');
    const payloads = groups
      .flatMap(([, rows]) => rows.flatMap((row) => row.payloads))
      .filter((p) => p.length >= 6);
    expectNotEchoed(metrics, [...new Set(payloads)]);
  });
});
