import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Child } from '../../bench/processes';
import { refreshReport, type OngoingAccessDeps } from '../../src/jobs/ongoing-access-job';
import { createAnnouncer } from '../../src/jobs/webhook-job';
import type { OutgoingEvent } from '../../src/integrator/webhook-events';
import { webhookIdFor } from '../../src/integrator/webhook-events';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { createStorageKeys } from '../../src/storage/storage-keys';
import { integratorCall, startServerProcess } from '../support/server-process';
import { inspectRedis, redisUrl, sleep, startTestSandbox } from '../support/harness';
import { lenderWaitsFor, startLenderServer } from './integrator-support';
import { SECRET, startWebhookSetup, waitUntil, type WebhookSetup } from './webhook-support';
import { Applicant } from '../support/applicant';

jest.setTimeout(90_000);

/** The lender's view over time, written to TIMELINE_FILE when set (the closing note). */
function timeline(name: string) {
  const started = Date.now();
  return (what: string) => {
    const line = `[${name}] +${((Date.now() - started) / 1000).toFixed(1)} s ${what}\n`;
    if (process.env.TIMELINE_FILE) appendFileSync(process.env.TIMELINE_FILE, line);
  };
}

const tokenKeysOf = async (prefix: string, id: string) => {
  const redis = await inspectRedis();
  try {
    return (await redis.keysUnder(prefix)).filter((k) => k.includes(id) && k.endsWith(':tokens'));
  } finally {
    await redis.close();
  }
};

const lastBookedOn = (report: string) =>
  (JSON.parse(report) as { income: { primary: { last_booked_on: string } } }).income.primary.last_booked_on;

/** Events of one type for one verification that reached the receiver and verified with standardwebhooks. */
const verifiedEvents = (setup: WebhookSetup, id: string, type: string) =>
  setup.receiver.deliveries
    .filter((d) => d.verifiedWith.length > 0 && d.first)
    .map((d) => JSON.parse(d.body) as { type: string; data: { id: string; error: string | null } })
    .filter((e) => e.type === type && e.data.id === id);

async function ongoingVerification(setup: WebhookSetup, reference: string) {
  const made = await setup.server
    .lender()
    .post('/verifications', { reference, access: 'ongoing' })
    .expect(201);
  await new Applicant(setup.server.url).completeFlow(made.body.start_url as string);
  const ready = await lenderWaitsFor(setup.server, made.body.id as string, ['ready']);
  return { id: made.body.id as string, ready };
}

describe('one-time access', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(() => sandbox.close());

  it('keeps no token of the verification in Redis once the report is stored; refresh is refused 409', async () => {
    const server = await startLenderServer(sandbox);
    try {
      const made = await server.lender().post('/verifications', { reference: 'once-1' }).expect(201);
      const id = made.body.id as string;
      await new Applicant(server.url).completeFlow(made.body.start_url as string);
      const ready = await lenderWaitsFor(server, id, ['ready']);
      expect(ready).toMatchObject({ access: 'one_time', access_expires_at: null, error: null });
      expect(typeof ready.report_fetched_at).toBe('string');
      expect(await tokenKeysOf(server.prefix, id)).toEqual([]);
      // The scan itself finds the verification's other keys, so an empty answer is not a wrong prefix.
      const redis = await inspectRedis();
      expect((await redis.keysUnder(server.prefix)).filter((k) => k.includes(id))).toEqual(
        expect.arrayContaining([expect.stringMatching(/:report$/), expect.stringMatching(/:meta$/)]),
      );
      await redis.close();
      await server.lender().get(`/verifications/${id}/report`).expect(200);
      const refused = await server.lender().post(`/verifications/${id}/report-refresh`, {}).expect(409);
      expect(refused.body.error.code).toBe('access_not_ongoing');
    } finally {
      await server.close();
    }
  });
});

describe('ongoing access', () => {
  it('survives several inactivity limits without a request, and a refresh brings a newer report and a signed report_updated', async () => {
    const note = timeline('ongoing');
    // The provider forgets a refresh token unused for 3 s; the keep-alive comes every second.
    const sandbox = await startTestSandbox({ refreshTokenTtlS: 3, newerReportEachFetch: true });
    const setup = await startWebhookSetup(sandbox, { env: { ONGOING_KEEPALIVE_S: '1' } });
    try {
      note('lender: POST /verifications {"access":"ongoing"} → 201 created');
      const { id, ready } = await ongoingVerification(setup, 'ongoing-1');
      note(
        `lender: GET → ready, access ongoing, access_expires_at ${String(ready.access_expires_at)}, report_fetched_at ${String(ready.report_fetched_at)}`,
      );
      expect(ready.access).toBe('ongoing');
      const expires = Date.parse(ready.access_expires_at as string);
      expect(expires - Date.now()).toBeGreaterThan(89.9 * 86400_000);
      expect(expires - Date.now()).toBeLessThanOrEqual(90 * 86400_000);
      await waitUntil(
        'verification.ready delivered',
        () => verifiedEvents(setup, id, 'verification.ready').length === 1,
      );
      note('receiver: verification.ready (verified with standardwebhooks)');
      const first = await setup.server.lender().get(`/verifications/${id}/report`).expect(200);
      expect(await tokenKeysOf(setup.server.prefix, id)).toHaveLength(1);
      // Report, tokens and state are kept as long as the access (90 days), not for RETENTION_S (1 day).
      const keys = createStorageKeys(setup.server.prefix);
      const redis = await inspectRedis();
      for (const key of [keys.report(id), keys.tokens(id), keys.meta(id)])
        expect(await redis.pTTL(key)).toBeGreaterThan(89.9 * 86400_000);
      await redis.close();

      // Three inactivity limits and more, no request from anyone: only the keep-alive talks to the provider.
      await sleep(10_000);
      const stats = sandbox.stats();
      note(
        `(no requests for 10 s; keep-alive refreshed ${stats.refreshes} times, rejected ${stats.refreshesRejected})`,
      );
      expect(stats.refreshes).toBeGreaterThanOrEqual(5);
      expect(stats.refreshesRejected).toBe(0);

      const asked = await setup.server.lender().post(`/verifications/${id}/report-refresh`, {}).expect(202);
      expect(asked.body).toEqual({ id: expect.stringMatching(/^rfr_/), status: 'queued' });
      note(`lender: POST …/report-refresh → 202 ${JSON.stringify(asked.body)}`);
      await waitUntil(
        'report_updated delivered',
        () => verifiedEvents(setup, id, 'verification.report_updated').length === 1,
      );
      note('receiver: verification.report_updated (verified with standardwebhooks)');
      const after = await setup.server.lender().get(`/verifications/${id}`).expect(200);
      expect(Date.parse(after.body.report_fetched_at)).toBeGreaterThan(
        Date.parse(ready.report_fetched_at as string),
      );
      const second = await setup.server.lender().get(`/verifications/${id}/report`).expect(200);
      expect(lastBookedOn(second.text) > lastBookedOn(first.text)).toBe(true);
      note(
        `lender: GET …/report → last_booked_on ${lastBookedOn(first.text)} before, ${lastBookedOn(second.text)} now; report_fetched_at ${String(after.body.report_fetched_at)}`,
      );
      // The catch-up list carries the same event.
      const caught = await setup.server.lender().get('/events').expect(200);
      expect(caught.body.items.map((e: { type: string }) => e.type)).toContain('verification.report_updated');
      expect(sandbox.stats().refreshesRejected).toBe(0);
    } finally {
      await setup.close();
      await sandbox.close();
    }
  });

  it.each([
    [
      'the sandbox revokes the grant',
      { env: { ONGOING_KEEPALIVE_S: '1' }, sandbox: { refreshTokenTtlS: 60 } },
    ],
    [
      'keep-alive off (longer than the inactivity limit)',
      { env: { ONGOING_KEEPALIVE_S: '3600' }, sandbox: { refreshTokenTtlS: 2, accessTokenTtlS: 1 } },
    ],
  ])(
    '%s: verification.access_lost, 410 on report-refresh, the last report still readable',
    async (how, options) => {
      const note = timeline(`access lost: ${how}`);
      const sandbox = await startTestSandbox(options.sandbox);
      const setup = await startWebhookSetup(sandbox, { env: options.env });
      try {
        const { id } = await ongoingVerification(setup, 'lost-1');
        note('lender: GET → ready (ongoing)');
        const report = await setup.server.lender().get(`/verifications/${id}/report`).expect(200);
        if (how.startsWith('the sandbox')) {
          sandbox.revokeAll();
          note('provider: grant revoked');
        } else {
          await sleep(3000);
          note('(3 s without keep-alive: the refresh token died of inactivity)');
          await setup.server.lender().post(`/verifications/${id}/report-refresh`, {}).expect(202);
          note('lender: POST …/report-refresh → 202');
        }
        await waitUntil(
          'access_lost delivered',
          () => verifiedEvents(setup, id, 'verification.access_lost').length === 1,
        );
        note('receiver: verification.access_lost (verified with standardwebhooks)');
        const lost = await setup.server.lender().get(`/verifications/${id}`).expect(200);
        expect(lost.body).toMatchObject({ status: 'ready', error: 'access_lost', access: 'ongoing' });
        expect(await tokenKeysOf(setup.server.prefix, id)).toEqual([]);
        const again = await setup.server.lender().post(`/verifications/${id}/report-refresh`, {}).expect(410);
        expect(again.body.error.code).toBe('access_lost');
        note('lender: POST …/report-refresh → 410 access_lost');
        const still = await setup.server.lender().get(`/verifications/${id}/report`).expect(200);
        expect(still.text).toBe(report.text);
        note('lender: GET …/report → 200, the last report');
        expect(sandbox.stats().refreshesRejected).toBeGreaterThanOrEqual(1);
        expect(verifiedEvents(setup, id, 'verification.report_updated')).toHaveLength(0);
      } finally {
        await setup.close();
        await sandbox.close();
      }
    },
  );

  it('at access_expires_at the keep-alive deletes the tokens: error access_expired, 410 on report-refresh, no event', async () => {
    let offsetMs = 0;
    const clock = () => Date.now() + offsetMs;
    const sandbox = await startTestSandbox({ refreshTokenTtlS: 60 });
    const setup = await startWebhookSetup(sandbox, {
      env: { ONGOING_KEEPALIVE_S: '1', ONGOING_ACCESS_MAX_DAYS: '30' },
      runtime: { clock },
    });
    try {
      const { id, ready } = await ongoingVerification(setup, 'expiry-1');
      expect(Date.parse(ready.access_expires_at as string) - Date.now()).toBeGreaterThan(29.9 * 86400_000);
      await waitUntil(
        'verification.ready delivered',
        () => verifiedEvents(setup, id, 'verification.ready').length === 1,
      );
      const deliveriesBefore = setup.receiver.deliveries.length;
      offsetMs = 30 * 86400_000;
      await waitUntil('access expired', async () => {
        const v = await setup.server.lender().get(`/verifications/${id}`).expect(200);
        return v.body.error === 'access_expired';
      });
      expect(await tokenKeysOf(setup.server.prefix, id)).toEqual([]);
      const refused = await setup.server.lender().post(`/verifications/${id}/report-refresh`, {}).expect(410);
      expect(refused.body.error.code).toBe('access_lost');
      await setup.server.lender().get(`/verifications/${id}/report`).expect(200);
      await sleep(1500);
      // Any delivery at all (a shifted clock would also fail the receiver's timestamp check).
      expect(setup.receiver.deliveries).toHaveLength(deliveriesBefore);
      const caught = await setup.server.lender().get('/events').expect(200);
      expect(caught.body.items.map((e: { type: string }) => e.type)).toEqual(['verification.ready']);
      expect(sandbox.stats().refreshesRejected).toBe(0);
    } finally {
      await setup.close();
      await sandbox.close();
    }
  });

  it('two instances, keep-alive and a report refresh at the same moment: one refresh upstream, none rejected', async () => {
    // Access tokens are stale after a second, so both the keep-alive and the report refresh need a refresh.
    const sandbox = await startTestSandbox({
      accessTokenTtlS: 2,
      refreshTokenTtlS: 30,
      newerReportEachFetch: true,
    });
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const env = { ONGOING_KEEPALIVE_S: '3' };
    const a = await startWebhookSetup(sandbox, { env, prefix });
    // Every instance has the same configuration, the webhook endpoint included.
    const b = await startLenderServer(
      sandbox,
      { ...env, WEBHOOK_URL: a.receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_SCHEDULE_S: '1.5,1.5,2' },
      prefix,
    );
    try {
      const { id } = await ongoingVerification(a, 'both-1');
      const before = await a.server.lender().get(`/verifications/${id}`).expect(200);
      sandbox.resetStats();
      // The keep-alive's refresh takes 1.5 s upstream: the report refresh comes while it is in flight.
      sandbox.script('refresh', [{ status: 0, delayMs: 1500 }]);
      const lockKey = createStorageKeys(prefix).refreshLock(id);
      const redis = await inspectRedis();
      await waitUntil(
        'the keep-alive holds the refresh lock',
        async () => (await redis.exists(lockKey)) === 1,
        10_000,
      );
      await redis.close();
      await b.lender().post(`/verifications/${id}/report-refresh`, {}).expect(202);
      await waitUntil(
        'report_updated delivered',
        () => verifiedEvents(a, id, 'verification.report_updated').length === 1,
      );
      const stats = sandbox.stats();
      expect(stats.refreshes).toBe(1);
      expect(stats.refreshesRejected).toBe(0);
      expect(stats.reportFetches.unauthorized).toBe(0);
      const after = await b.lender().get(`/verifications/${id}`).expect(200);
      expect(after.body.error).toBeNull();
      expect(Date.parse(after.body.report_fetched_at)).toBeGreaterThan(
        Date.parse(before.body.report_fetched_at),
      );
    } finally {
      await b.close();
      await a.close();
      await sandbox.close();
    }
  });

  it('DELETE: tokens gone, the keep-alive stops, no event after it', async () => {
    const sandbox = await startTestSandbox({ refreshTokenTtlS: 30 });
    const setup = await startWebhookSetup(sandbox, { env: { ONGOING_KEEPALIVE_S: '1' } });
    try {
      const { id } = await ongoingVerification(setup, 'delete-1');
      await waitUntil('a keep-alive ran', () => sandbox.stats().refreshes >= 1, 5000);
      await setup.server.lender().delete(`/verifications/${id}`).expect(204);
      const deliveriesAtDelete = setup.receiver.deliveries.length;
      const refreshesAtDelete = sandbox.stats().refreshes;
      expect(await tokenKeysOf(setup.server.prefix, id)).toEqual([]);
      await sleep(3500);
      // At most one keep-alive that was already talking to the provider when DELETE came.
      expect(sandbox.stats().refreshes - refreshesAtDelete).toBeLessThanOrEqual(1);
      const refreshesLater = sandbox.stats().refreshes;
      await sleep(2500);
      expect(sandbox.stats().refreshes).toBe(refreshesLater);
      expect(setup.receiver.deliveries.length).toBe(deliveriesAtDelete);
      expect(await tokenKeysOf(setup.server.prefix, id)).toEqual([]);
      // The keep-alive job is gone from the queue (BullMQ keeps a job as a hash under its id).
      const redis = await inspectRedis();
      const jobKeys = await redis.keysUnder(`{${setup.server.prefix}jobs}`);
      await redis.close();
      expect(jobKeys.some((k) => k.endsWith(`:work:keepalive-${id}`))).toBe(false);
      expect(jobKeys.some((k) => k.endsWith(`:work:deadline-${id}`))).toBe(true);
      await setup.server.lender().get(`/verifications/${id}`).expect(410);
      await setup.server.lender().post(`/verifications/${id}/report-refresh`, {}).expect(410);
    } finally {
      await setup.close();
      await sandbox.close();
    }
  });
});

/** The report-refresh job's dependencies from a running server, with announcing under the test's control. */
function jobDeps(
  rt: Awaited<ReturnType<typeof startLenderServer>>['runtime'],
  announce: (event: OutgoingEvent, announceForReal: (event: OutgoingEvent) => Promise<void>) => Promise<void>,
): OngoingAccessDeps {
  const announceForReal = createAnnouncer({ log: rt.events, jobs: rt.jobs, deliver: false });
  return {
    verifications: rt.deps.verifications,
    tokens: rt.deps.tokens,
    tokenStore: rt.deps.tokenStore,
    provider: rt.deps.provider,
    reports: rt.deps.reports,
    keys: rt.deps.keys,
    clock: Date.now,
    logger: rt.deps.logger,
    settings: { keepaliveMs: 3600_000, retentionMs: 86400_000, refreshGiveUpMs: 60_000 },
    announce: (event) => announce(event, announceForReal),
    forget: (ids) => rt.events.remove(ids),
  };
}

/**
 * A fresh sandbox (a newer report on every fetch) and server (keep-alive an hour away, so only what
 * the test runs touches the verification), one ongoing verification made ready; closed afterwards.
 */
async function withReadyOngoing(
  reference: string,
  test: (
    server: Awaited<ReturnType<typeof startLenderServer>>,
    id: string,
    ready: { report_fetched_at: string },
    sandbox: Sandbox,
  ) => Promise<void>,
): Promise<void> {
  const sandbox = await startTestSandbox({ newerReportEachFetch: true });
  const server = await startLenderServer(sandbox, { ONGOING_KEEPALIVE_S: '3600' });
  try {
    const made = await server.lender().post('/verifications', { reference, access: 'ongoing' });
    const id = made.body.id as string;
    await new Applicant(server.url).completeFlow(made.body.start_url as string);
    const ready = (await lenderWaitsFor(server, id, ['ready'])) as { report_fetched_at: string };
    await test(server, id, ready, sandbox);
  } finally {
    await server.close();
    await sandbox.close();
  }
}

describe('report refresh: the job is queued before the request is recorded', () => {
  it('a job that runs first waits for the record, then refreshes; one whose record never comes ends', () =>
    withReadyOngoing('early-1', async (server, id, before) => {
      const deps = jobDeps(server.runtime, (event, real) => real(event));
      const rt = server.runtime;

      // A crash right after queueing: the record never comes, the job ends once the grace is over.
      const orphan = { verificationId: id, refreshId: 'rfr_orphan', requestedAt: Date.now() - 11_000 };
      expect(await refreshReport(deps, orphan, { id: 'x', run: 1 })).toEqual({
        kind: 'done',
        result: 'not_pending',
      });

      const job = { verificationId: id, refreshId: 'rfr_early', requestedAt: Date.now() };
      expect(await refreshReport(deps, job, { id: 'x', run: 1 })).toMatchObject({
        kind: 'retry',
        reason: 'not_recorded_yet',
      });
      await rt.deps.verifications.transitionFresh(id, (meta) => ({
        meta: { ...meta, refreshPending: { id: 'rfr_early', requestedAt: job.requestedAt } },
      }));
      expect(await refreshReport(deps, job, { id: 'x', run: 2 })).toEqual({
        kind: 'done',
        result: 'updated',
      });
      const after = (await server.lender().get(`/verifications/${id}`).expect(200)).body as {
        report_fetched_at: string;
      };
      expect(Date.parse(after.report_fetched_at)).toBeGreaterThan(Date.parse(before.report_fetched_at));
    }));

  it('the route answers a refresh whose job is queued, and the job it queued serves it', () =>
    withReadyOngoing('early-2', async (server, id) => {
      const [a, b] = await Promise.all([
        server.lender().post(`/verifications/${id}/report-refresh`, {}).expect(202),
        server.lender().post(`/verifications/${id}/report-refresh`, {}).expect(202),
      ]);
      expect(a.body.id).toBe(b.body.id);
      expect([a.body.status, b.body.status].sort()).toEqual(['in_progress', 'queued']);
      await waitUntil(
        'the refresh stored',
        async () => (await server.runtime.deps.verifications.read(id))?.meta.reportUpdates === 1,
      );
      expect((await server.runtime.deps.verifications.read(id))?.meta.refreshPending).toBeUndefined();
    }));
});

describe('report refresh and a crash between storing the report and announcing it', () => {
  it('the next run of the job appends the report_updated event it owes, once', () =>
    // The keep-alive is an hour away: only the refresh run by hand below touches this verification.
    withReadyOngoing('crash-1', async (server, id, _ready, sandbox) => {
      let crash = true;
      const deps = jobDeps(server.runtime, async (event, announceForReal) => {
        if (crash) throw new Error('process died before the event was appended');
        await announceForReal(event);
      });
      const rt = server.runtime;
      // The lender's request as the route records it, without queueing the server's own job.
      await rt.deps.verifications.transitionFresh(id, (meta) => ({
        meta: { ...meta, refreshPending: { id: 'rfr_crash', requestedAt: Date.now() } },
      }));
      const job = { verificationId: id, refreshId: 'rfr_crash' };
      await expect(refreshReport(deps, job, { id: 'x', run: 1 })).rejects.toThrow('process died');
      const stored = await rt.deps.verifications.read(id);
      expect(stored?.meta).toMatchObject({ reportUpdates: 1, reportAnnounced: false });
      const eventId = webhookIdFor(id, 'report_updated:1');
      expect(await rt.events.read(eventId)).toBeUndefined();

      crash = false;
      // The engine runs the job again: the report is not fetched twice, the event is appended.
      const fetchesBefore = sandbox.stats().reportFetches.ready;
      expect(await refreshReport(deps, job, { id: 'x', run: 2 })).toEqual({
        kind: 'done',
        result: 'not_pending',
      });
      expect(sandbox.stats().reportFetches.ready).toBe(fetchesBefore);
      expect((await rt.events.read(eventId))?.event.type).toBe('verification.report_updated');
      expect((await rt.deps.verifications.read(id))?.meta.reportAnnounced).toBe(true);
      await refreshReport(deps, job, { id: 'x', run: 3 });
      const page = await rt.events.page(undefined, 100);
      expect(page.items.filter((e) => e.type === 'verification.report_updated')).toHaveLength(1);
    }));
});

describe('ongoing access outlives every instance', () => {
  const children: Child[] = [];
  afterAll(async () => {
    for (const child of children) await child.stop();
  });

  it('kill -9 of every instance between two keep-alives: the next one still runs', async () => {
    const note = timeline('kill');
    const sandbox = await startTestSandbox({ refreshTokenTtlS: 12, newerReportEachFetch: true });
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const instance = async () => {
      const child = await startServerProcess({
        name: `ongoing-${children.length}`,
        redisUrl: redisUrl(),
        sandbox,
        env: { REDIS_KEY_PREFIX: prefix, ONGOING_KEEPALIVE_S: '4' },
      });
      children.push(child);
      return child;
    };
    const api = integratorCall;
    try {
      const first = await instance();
      const made = (await (
        await api(first.url, '/verifications', {
          method: 'POST',
          body: '{"reference":"kill-ongoing","access":"ongoing"}',
        })
      ).json()) as { id: string; start_url: string };
      await new Applicant(first.url).completeFlow(made.start_url);
      await waitUntil('ready', async () => {
        const v = (await (await api(first.url, `/verifications/${made.id}`)).json()) as { status: string };
        return v.status === 'ready';
      });
      note('ready with one instance');
      await waitUntil('the first keep-alive', () => sandbox.stats().refreshes === 1, 10_000);
      // Between two keep-alives, not inside one: a kill in the milliseconds between the provider's
      // answer and storing the rotated token loses that token (no server can avoid that), which is
      // not what this test is about. The next keep-alive is due 4 s after this one.
      await sleep(1000);
      note('first keep-alive ran; kill -9 of every instance');
      first.signal('SIGKILL');
      // The next keep-alive falls due while no instance runs.
      await sleep(5000);
      expect(sandbox.stats().refreshes).toBe(1);
      const second = await instance();
      note('a new instance started');
      await waitUntil('the next keep-alive', () => sandbox.stats().refreshes === 2, 15_000);
      note('the next keep-alive ran on the new instance');
      expect(sandbox.stats().refreshesRejected).toBe(0);
      const asked = await api(second.url, `/verifications/${made.id}/report-refresh`, {
        method: 'POST',
        body: '{}',
      });
      expect(asked.status).toBe(202);
      await waitUntil('report refreshed', async () => {
        const v = (await (await api(second.url, `/verifications/${made.id}`)).json()) as {
          report_fetched_at: string;
          error: string | null;
        };
        return v.error === null && sandbox.stats().reportFetches.ready >= 2;
      });
      expect(sandbox.stats().refreshesRejected).toBe(0);
    } finally {
      for (const child of children) await child.stop();
      const redis = await inspectRedis();
      await redis.dropPrefix(prefix);
      await redis.close();
      await sandbox.close();
    }
  }, 240_000); // the children run the compiled project: its first build alone can take a minute on a busy machine
});
