import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { inspectRedis, startTestSandbox, startTestServer, sleep } from '../support/harness';
import { KEY_A, KEY_B, lenderWaitsFor, startLenderServer, type LenderServer } from './integrator-support';
import { Applicant, NAVIGATE } from '../support/applicant';

let sandbox: Sandbox;
let server: LenderServer;
beforeAll(async () => {
  sandbox = await startTestSandbox();
  server = await startLenderServer(sandbox);
});
afterAll(async () => {
  await server.close();
  await sandbox.close();
});

const create = async (reference: string, extra: Record<string, unknown> = {}) =>
  (
    await server
      .lender()
      .post('/verifications', { reference, ...extra })
      .expect(201)
  ).body as {
    id: string;
    reference: string;
    status: string;
    start_url: string;
    expires_at: string;
  };

describe('POST /integrator/v1/verifications', () => {
  it('creates a verification under the lender reference with a single-use start link', async () => {
    const before = Date.now();
    const res = await server.lender().post('/verifications', { reference: 'app-123' }).expect(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^ver_[A-Za-z0-9_-]{22}$/),
      reference: 'app-123',
      status: 'created',
      start_url: expect.stringMatching(
        new RegExp(`^${server.url}/verification/start\\?ticket=[A-Za-z0-9_-]{32}$`),
      ),
      expires_at: expect.any(String),
    });
    const expires = Date.parse(res.body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
    // No link at the provider yet: it is made when the applicant opens the start link.
    expect(sandbox.stats().linksCreated).toBe(0);
    const read = await server.lender().get(`/verifications/${res.body.id}`).expect(200);
    expect(read.body).toEqual({
      id: res.body.id,
      reference: 'app-123',
      status: 'created',
      error: null,
      access: 'one_time',
      access_expires_at: null,
      report_fetched_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('stores the ticket only as a hash', async () => {
    const made = await create('app-hash');
    const ticket = new URL(made.start_url).searchParams.get('ticket') as string;
    const redis = await inspectRedis();
    const keys = await redis.keysUnder(server.prefix);
    const values = await Promise.all(
      keys.filter((k) => !k.includes('{bff')).map((k) => redis.get(k).catch(() => '')),
    );
    await redis.close();
    expect(keys.join(' ')).not.toContain(ticket);
    expect(values.join(' ')).not.toContain(ticket);
  });

  it('replays the first answer for the same Idempotency-Key and body, and refuses another body', async () => {
    const headers = { 'idempotency-key': 'order-77-attempt' };
    const first = await server.lender().post('/verifications', { reference: 'idem-1' }, headers).expect(201);
    const again = await server.lender().post('/verifications', { reference: 'idem-1' }, headers).expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await server.lender().post('/verifications', { reference: 'idem-2' }, headers).expect(409);
    expect(other.body.error).toMatchObject({ code: 'idempotency_conflict', requestId: expect.any(String) });
    const list = await server.lender().get('/verifications?reference=idem-1').expect(200);
    expect(list.body.items).toHaveLength(1);
  });
});

describe('API keys', () => {
  it('refuses a missing or wrong key with one answer, 401 unauthorized', async () => {
    const missing = await server
      .lender()
      .get('/verifications?reference=x')
      .set('authorization', '')
      .expect(401);
    const wrong = await server.lender('k'.repeat(46)).get('/verifications?reference=x').expect(401);
    const notBearer = await server
      .lender()
      .get('/verifications?reference=x')
      .set('authorization', `Basic ${KEY_A}`)
      .expect(401);
    for (const res of [missing, wrong, notBearer]) {
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.body.error.message).toBe(missing.body.error.message);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('accepts both keys during a rotation and refuses the retired one after it', async () => {
    await server.lender(KEY_A).get('/verifications?reference=x').expect(200);
    await server.lender(KEY_B).get('/verifications?reference=x').expect(200);
    const rotated = await startLenderServer(sandbox, { INTEGRATOR_API_KEYS: KEY_B });
    try {
      await rotated.lender(KEY_B).get('/verifications?reference=x').expect(200);
      await rotated.lender(KEY_A).get('/verifications?reference=x').expect(401);
    } finally {
      await rotated.close();
    }
  });

  it('logs a key id, never the key', async () => {
    await server.lender(KEY_B).get('/verifications?reference=log-check').expect(200);
    const logs = server.logs.text();
    expect(logs).not.toContain(KEY_A);
    expect(logs).not.toContain(KEY_B);
    expect(logs).toMatch(/"keyId":"[0-9a-f]{8}"/);
  });

  it('is off (404 for every path) when INTEGRATOR_API_KEYS is unset', async () => {
    const off = await startTestServer({ sandbox });
    try {
      const res = await fetch(`${off.url}/integrator/v1/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
        body: '{"reference":"x"}',
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    } finally {
      await off.close();
    }
  });

  it('limits requests per key per minute', async () => {
    const limited = await startLenderServer(sandbox, { RATE_LIMIT_INTEGRATOR_PER_KEY_PER_MINUTE: '3' });
    try {
      for (let i = 0; i < 3; i++) await limited.lender(KEY_A).get('/verifications?reference=x').expect(200);
      const over = await limited.lender(KEY_A).get('/verifications?reference=x').expect(429);
      expect(over.body.error.code).toBe('rate_limited');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      await limited.lender(KEY_B).get('/verifications?reference=x').expect(200);
    } finally {
      await limited.close();
    }
  });
});

describe('the ticketed flow', () => {
  it('ends with the report readable by the lender, deep-equal to what the provider served, with no browser polling', async () => {
    const made = await create('app-e2e');
    const applicant = new Applicant(server.url);
    const { flowId } = await applicant.completeFlow(made.start_url);
    // The applicant's browser is gone: nobody polls /api/verification.
    const done = await lenderWaitsFor(server, made.id, ['ready', 'failed', 'expired']);
    expect(done).toMatchObject({ id: made.id, reference: 'app-e2e', status: 'ready', error: null });
    const report = await server.lender().get(`/verifications/${made.id}/report`).expect(200);
    expect(report.body).toEqual(sandbox.servedReport(flowId));
    expect(report.headers['cache-control']).toBe('no-store');
    expect(server.logs.text()).toMatch(
      new RegExp(
        `"audit":"report_read","keyId":"[0-9a-f]{8}","verificationId":"${made.id}","reference":"app-e2e","outcome":"served"`,
      ),
    );
  });

  it('answers 409 report_not_ready before the report is there', async () => {
    const made = await create('app-early');
    const res = await server.lender().get(`/verifications/${made.id}/report`).expect(409);
    expect(res.body.error.code).toBe('report_not_ready');
  });

  it('a used ticket sends a second browser back with ticket_used; the first one keeps its verification', async () => {
    const made = await create('app-replay');
    const first = new Applicant(server.url);
    await first.start(made.start_url);
    const second = new Applicant(server.url);
    expect(await second.start(made.start_url, NAVIGATE)).toBe('/?verification=failed&reason=ticket_used');
    const api = await second
      .post('/api/verification')
      .set('content-type', 'application/json')
      .send({
        ticket: new URL(made.start_url).searchParams.get('ticket'),
      });
    expect(api.status).toBe(410);
    expect(api.body.error.code).toBe('ticket_used');
    expect((await server.lender().get(`/verifications/${made.id}`).expect(200)).body.status).toBe(
      'awaiting_user',
    );
    // The same browser may open its link again (a reload): a fresh widget link, same verification.
    await first.start(made.start_url);
  });

  it('two browsers racing for one ticket: exactly one wins', async () => {
    const made = await create('app-race');
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => new Applicant(server.url).start(made.start_url, NAVIGATE)),
    );
    const won = answers.filter((location) => !location.startsWith('/?verification=failed'));
    expect(won).toHaveLength(1);
    expect(
      answers.filter((location) => location === '/?verification=failed&reason=ticket_used'),
    ).toHaveLength(5);
  });

  it('an unknown ticket is ticket_invalid, and a ticket of A never touches B', async () => {
    const a = await create('app-a');
    const b = await create('app-b');
    expect(await new Applicant(server.url).start('?ticket=' + 'x'.repeat(32), NAVIGATE)).toBe(
      '/?verification=failed&reason=ticket_invalid',
    );
    await new Applicant(server.url).start(a.start_url);
    expect((await server.lender().get(`/verifications/${a.id}`)).body.status).toBe('awaiting_user');
    expect((await server.lender().get(`/verifications/${b.id}`)).body.status).toBe('created');
  });

  it('an expired ticket is ticket_expired, and the verification reads expired', async () => {
    let offset = 0;
    const clocked = await startLenderServer(sandbox, {}, undefined, { clock: () => Date.now() + offset });
    try {
      const made = (await clocked.lender().post('/verifications', { reference: 'app-late' }).expect(201))
        .body;
      offset = 3601_000;
      expect(await new Applicant(clocked.url).start(made.start_url, NAVIGATE)).toBe(
        '/?verification=failed&reason=ticket_expired',
      );
      const read = await clocked.lender().get(`/verifications/${made.id}`).expect(200);
      expect(read.body).toMatchObject({ status: 'expired', error: 'ticket_expired' });
    } finally {
      await clocked.close();
    }
  });
});

describe('GET /integrator/v1/verifications?reference=', () => {
  it('lists the verifications of a reference, newest first, including ones started without a ticket', async () => {
    const one = await create('app-list');
    await sleep(5);
    const two = await create('app-list');
    await create('app-other');
    const res = await server.lender().get('/verifications?reference=app-list').expect(200);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([two.id, one.id]);
  });

  it('reads verifications started without a ticket, with reference null', async () => {
    const own = await startLenderServer(sandbox);
    try {
      await new Applicant(own.url).get('/verification/start').expect(302);
      const redis = await inspectRedis();
      const metaKeys = (await redis.keysUnder(own.prefix)).filter((k) => k.endsWith(':meta'));
      await redis.close();
      expect(metaKeys).toHaveLength(1);
      const id = /\{v:(ver_[^}]+)\}/.exec(metaKeys[0] as string)?.[1];
      const body = (await own.lender().get(`/verifications/${id}`).expect(200)).body;
      expect(body).toMatchObject({ id, reference: null, status: 'awaiting_user', error: null });
    } finally {
      await own.close();
    }
  });
});

describe('DELETE /integrator/v1/verifications/{id}', () => {
  it('removes tokens, report, ticket and state; is idempotent; reads then answer 410 gone', async () => {
    const made = await create('app-delete');
    const applicant = new Applicant(server.url);
    await applicant.completeFlow(made.start_url);
    await lenderWaitsFor(server, made.id, ['ready']);
    await server.lender().delete(`/verifications/${made.id}`).expect(204);
    await server.lender().delete(`/verifications/${made.id}`).expect(204);
    const redis = await inspectRedis();
    const left = (await redis.keysUnder(server.prefix)).filter((k) => k.includes(made.id));
    await redis.close();
    expect(left.map((k) => k.slice(k.lastIndexOf(':') + 1))).toEqual(['known']);
    expect((await server.lender().get(`/verifications/${made.id}`).expect(410)).body.error.code).toBe('gone');
    expect((await server.lender().get(`/verifications/${made.id}/report`).expect(410)).body.error.code).toBe(
      'gone',
    );
    // The applicant's page learns it is over.
    const poll = await applicant.get('/api/verification').expect(200);
    expect(['none', 'expired']).toContain(poll.body.status);
    // Its start link is void too.
    expect(await new Applicant(server.url).start(made.start_url, NAVIGATE)).toBe(
      '/?verification=failed&reason=ticket_invalid',
    );
  });

  it('answers 404 for an id that never existed', async () => {
    const res = await server
      .lender()
      .get('/verifications/ver_' + 'A'.repeat(22))
      .expect(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('REQUIRE_START_TICKET=true', () => {
  it('refuses ticketless starts (API 403 ticket_required, navigation back with the reason) and still takes tickets', async () => {
    const strict = await startLenderServer(sandbox, { REQUIRE_START_TICKET: 'true' });
    try {
      const api = await new Applicant(strict.url)
        .post('/api/verification')
        .set('content-type', 'application/json')
        .send({});
      expect(api.status).toBe(403);
      expect(api.body.error.code).toBe('ticket_required');
      expect(await new Applicant(strict.url).start('', NAVIGATE)).toBe(
        '/?verification=failed&reason=ticket_required',
      );
      const made = (await strict.lender().post('/verifications', { reference: 'strict-1' }).expect(201)).body;
      const applicant = new Applicant(strict.url);
      const res = await applicant
        .post('/api/verification')
        .set('content-type', 'application/json')
        .send({
          ticket: new URL(made.start_url).searchParams.get('ticket'),
        });
      expect(res.status).toBe(201);
      expect(res.body.location).toContain(sandbox.url);
    } finally {
      await strict.close();
    }
  });
});
