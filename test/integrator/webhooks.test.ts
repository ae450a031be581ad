import request from 'supertest';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { webhookIdFor } from '../../src/integrator/webhook-events';
import os from 'node:os';
import { inspectRedis, sleep, startTestSandbox } from '../support/harness';
import {
  OLD_SECRET,
  SECRET,
  createVerification,
  startWebhookSetup,
  waitUntil,
  type WebhookSetup,
} from './webhook-support';
import { Applicant } from '../support/applicant';

jest.setTimeout(60_000);

let sandbox: Sandbox;
const setups: WebhookSetup[] = [];
beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(async () => {
  for (const setup of setups) await setup.close();
  await sandbox.close();
});
const setup = async (options: Parameters<typeof startWebhookSetup>[1] = {}) => {
  const s = await startWebhookSetup(sandbox, options);
  setups.push(s);
  return s;
};
const metric = async (s: WebhookSetup, line: RegExp) => {
  const text = (await request(s.server.url).get('/metrics').expect(200)).text;
  return text.split('\n').find((l) => line.test(l));
};

describe('webhooks: the lender is told when a verification ends', () => {
  it('ticketed flow → approve, no browser polling → one delivery the standardwebhooks package verifies, then the report through the API', async () => {
    const { server, receiver } = await setup();
    const made = await createVerification(server, 'app-123');
    const { flowId } = await new Applicant(server.url).completeFlow(made.start_url);
    await waitUntil('a delivery', () => receiver.deliveries.length > 0);
    await sleep(300);
    expect(receiver.deliveries).toHaveLength(1);
    const [delivery] = receiver.deliveries;
    expect(delivery?.status).toBe(204);
    expect(delivery?.verifiedWith).toEqual([0]);
    expect(delivery?.webhookId).toBe(webhookIdFor(made.id, 'ready'));
    expect(delivery?.webhookId).toMatch(/^msg_[0-9A-Z]{26}$/);
    expect(Math.abs((delivery?.timestamp ?? 0) - Date.now() / 1000)).toBeLessThan(5);
    const body = JSON.parse(delivery?.body ?? '{}');
    expect(body).toEqual({
      type: 'verification.ready',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { id: made.id, reference: 'app-123', status: 'ready', error: null },
    });
    // Thin: nothing of the report or the tokens.
    expect(Object.keys(body)).toEqual(['type', 'timestamp', 'data']);
    const view = await server.lender().get(`/verifications/${made.id}`).expect(200);
    expect(body.timestamp).toBe(view.body.updated_at);
    const report = await server.lender().get(`/verifications/${made.id}/report`).expect(200);
    expect(report.body).toEqual(sandbox.servedReport(flowId));
    // The secret never leaves the server: not in a log line, not in an answer.
    for (const secret of [SECRET, SECRET.slice('whsec_'.length)]) {
      expect(server.logs.text()).not.toContain(secret);
      expect(JSON.stringify((await server.lender().get('/events').expect(200)).body)).not.toContain(secret);
    }
    expect(
      await metric(
        { server, receiver, close: async () => undefined },
        /^bff_webhook_deliveries_total\{outcome="delivered",attempt="1"\}/,
      ),
    ).toMatch(/ 1$/);
    expect(
      await metric(
        { server, receiver, close: async () => undefined },
        /^bff_webhook_delivery_latency_seconds_count/,
      ),
    ).toMatch(/ 1$/);
  });

  it('tells of a verification started without a ticket, with "reference": null, and of a cancelled one', async () => {
    const { server, receiver } = await setup();
    await new Applicant(server.url).cancelFlow();
    await waitUntil('a delivery', () => receiver.deliveries.length > 0);
    const body = JSON.parse(receiver.deliveries[0]?.body ?? '{}');
    expect(body).toMatchObject({
      type: 'verification.cancelled',
      data: { reference: null, status: 'cancelled', error: null },
    });
  });

  it('503 twice then 200: three attempts with the same webhook-id and fresh timestamps, delivered once', async () => {
    const { server, receiver } = await setup({
      receiver: { respond: (_d, attempt) => ({ status: attempt <= 2 ? 503 : 200 }) },
    });
    const made = await createVerification(server, 'app-503');
    await new Applicant(server.url).cancelFlow(made.start_url);
    await waitUntil('three attempts', () => receiver.deliveries.length >= 3);
    await sleep(2500);
    const attempts = receiver.deliveries;
    expect(attempts.map((d) => d.status)).toEqual([503, 503, 200]);
    expect(new Set(attempts.map((d) => d.webhookId)).size).toBe(1);
    expect(attempts.every((d) => d.verifiedWith.length === 1)).toBe(true);
    expect(attempts[1]!.timestamp).toBeGreaterThan(attempts[0]!.timestamp);
    expect(attempts[2]!.timestamp).toBeGreaterThan(attempts[1]!.timestamp);
    expect(new Set(attempts.map((d) => d.body)).size).toBe(1);
    // The schedule's first delay (1.5 s ± 20 %) was kept.
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(1150);
    expect(attempts.filter((d) => d.first)).toHaveLength(1);
  });

  it('honours Retry-After up to the longest delay of the schedule', async () => {
    const { server, receiver } = await setup({
      receiver: {
        respond: (_d, attempt) =>
          attempt === 1 ? { status: 429, headers: { 'retry-after': '3600' } } : { status: 200 },
      },
    });
    const made = await createVerification(server, 'app-429');
    await new Applicant(server.url).cancelFlow(made.start_url);
    await waitUntil('two attempts', () => receiver.deliveries.length >= 2, 10_000);
    const gap = receiver.deliveries[1]!.receivedAt - receiver.deliveries[0]!.receivedAt;
    // Capped at the longest configured delay (2 s), not the hour asked for; not sooner than that either.
    expect(gap).toBeGreaterThanOrEqual(1900);
    expect(gap).toBeLessThan(4000);
  });

  it('410: no more attempts, the endpoint is disabled (metric, error log), later events are dead letters; a redeliver call turns it back on', async () => {
    let gone = true;
    const s = await setup({ receiver: { respond: () => ({ status: gone ? 410 : 200 }) } });
    const { server, receiver } = s;
    const first = await createVerification(server, 'app-410');
    await new Applicant(server.url).cancelFlow(first.start_url);
    await waitUntil('the 410', () => receiver.deliveries.length === 1);
    await sleep(2500);
    expect(receiver.deliveries).toHaveLength(1);
    expect(await metric(s, /^bff_webhook_endpoint_disabled /)).toBe('bff_webhook_endpoint_disabled 1');
    expect(server.logs.text()).toMatch(/"level":50.*answered 410 Gone/);

    const second = await createVerification(server, 'app-410-b');
    await new Applicant(server.url).cancelFlow(second.start_url);
    const failed = async () =>
      (await server.lender().get('/webhook-deliveries?status=failed').expect(200)).body.items;
    await waitUntil('two dead letters', async () => (await failed()).length === 2);
    expect(receiver.deliveries).toHaveLength(1);
    const items = await failed();
    expect(items[0]).toMatchObject({
      webhook_id: webhookIdFor(second.id, 'cancelled'),
      event: 'verification.cancelled',
      attempts: 0,
      last_error: 'endpoint_disabled',
    });
    expect(items[1]).toMatchObject({
      webhook_id: webhookIdFor(first.id, 'cancelled'),
      attempts: 1,
      last_error: 'http_410',
    });

    gone = false;
    const id = items[1].webhook_id as string;
    const res = await server.lender().post(`/webhook-deliveries/${id}/redeliver`, {}).expect(202);
    expect(res.body).toEqual({ webhook_id: id, status: 'pending' });
    await waitUntil('the redelivery', () =>
      receiver.deliveries.some((d) => d.webhookId === id && d.status === 200),
    );
    expect(await metric(s, /^bff_webhook_endpoint_disabled /)).toBe('bff_webhook_endpoint_disabled 0');
    expect((await failed()).map((i: { webhook_id: string }) => i.webhook_id)).toEqual([
      webhookIdFor(second.id, 'cancelled'),
    ]);
  });

  it('a receiver slower than the timeout is retried', async () => {
    const { server, receiver } = await setup({
      env: { WEBHOOK_TIMEOUT_MS: '400' },
      receiver: { respond: (_d, attempt) => ({ status: 200, delayMs: attempt === 1 ? 1500 : 0 }) },
    });
    const made = await createVerification(server, 'app-slow');
    await new Applicant(server.url).cancelFlow(made.start_url);
    await waitUntil('the second attempt', () => receiver.deliveries.length >= 2, 15_000);
    expect(receiver.deliveries.map((d) => d.webhookId)).toEqual([
      webhookIdFor(made.id, 'cancelled'),
      webhookIdFor(made.id, 'cancelled'),
    ]);
    // The receiver answered 200 after our deadline: it saw the event twice (at-least-once), and dedupes by id.
    expect(receiver.deliveries.filter((d) => d.first)).toHaveLength(1);
  });

  it('exhausted schedule: a dead letter with its attempts and last error, sent again by hand under the same id', async () => {
    let up = false;
    const { server, receiver } = await setup({
      env: { WEBHOOK_RETRY_SCHEDULE_S: '0.2,0.2' },
      receiver: { respond: () => ({ status: up ? 200 : 500 }) },
    });
    const made = await createVerification(server, 'app-dead');
    await new Applicant(server.url).cancelFlow(made.start_url);
    const id = webhookIdFor(made.id, 'cancelled');
    const failed = async () =>
      (await server.lender().get('/webhook-deliveries?status=failed').expect(200)).body.items;
    await waitUntil('a dead letter', async () => (await failed()).length === 1);
    expect((await failed())[0]).toEqual({
      webhook_id: id,
      event: 'verification.cancelled',
      data: { id: made.id, reference: 'app-dead', status: 'cancelled', error: null },
      timestamp: expect.any(String),
      attempts: 3,
      last_error: 'http_500',
      failed_at: expect.any(String),
    });
    expect(receiver.deliveries).toHaveLength(3);
    up = true;
    await server.lender().post(`/webhook-deliveries/${id}/redeliver`, {}).expect(202);
    await waitUntil('the redelivery', () => receiver.deliveries.length === 4);
    expect(receiver.deliveries[3]).toMatchObject({ webhookId: id, status: 200 });
    await sleep(300);
    expect(await failed()).toEqual([]);
    // Redelivering a delivered event sends it once more; an unknown id is 404.
    await server.lender().post(`/webhook-deliveries/${id}/redeliver`, {}).expect(202);
    await waitUntil('one more', () => receiver.deliveries.length === 5);
    await server
      .lender()
      .post(`/webhook-deliveries/msg_${'0'.repeat(26)}/redeliver`, {})
      .expect(404);
  });

  it('rotation: during the grace period each delivery carries both signatures, and each secret verifies it', async () => {
    const { server, receiver } = await setup({
      env: { WEBHOOK_PREVIOUS_SECRETS: OLD_SECRET },
      receiver: { secrets: [SECRET, OLD_SECRET] },
    });
    const made = await createVerification(server, 'app-rotate');
    await new Applicant(server.url).cancelFlow(made.start_url);
    await waitUntil('a delivery', () => receiver.deliveries.length > 0);
    const [delivery] = receiver.deliveries;
    expect(delivery?.signature.split(' ')).toHaveLength(2);
    expect(delivery?.verifiedWith).toEqual([0, 1]);
  });

  it('a crash between the state change and the enqueue loses nothing: the job-first verification job runs again and delivers once', async () => {
    let crashes = 1;
    const { server, receiver } = await setup({
      runtime: {
        interceptSettled: (settled) => async (id, meta) => {
          if (crashes-- > 0) throw new Error('simulated crash after the state change');
          return settled(id, meta);
        },
      },
    });
    const made = await createVerification(server, 'app-crash');
    await new Applicant(server.url).cancelFlow(made.start_url);
    // The state changed; the event is not there yet.
    expect((await server.lender().get(`/verifications/${made.id}`).expect(200)).body.status).toBe(
      'cancelled',
    );
    await waitUntil('the delivery after the re-run', () => receiver.deliveries.length > 0);
    await sleep(1500);
    expect(crashes).toBeLessThan(0);
    expect(receiver.deliveries).toHaveLength(1);
    expect(receiver.deliveries[0]?.webhookId).toBe(webhookIdFor(made.id, 'cancelled'));
  });

  it('a delivery to a name that resolves to loopback is refused at connect time when private addresses are not allowed', async () => {
    const { server, receiver } = await setup({
      env: { WEBHOOK_ALLOW_PRIVATE: 'false', WEBHOOK_RETRY_SCHEDULE_S: '0.2' },
      // The machine's own name (it resolves to a loopback address here): the start-up check cannot know that.
      url: (receiverUrl) => receiverUrl.replace('127.0.0.1', os.hostname()),
    });
    const made = await createVerification(server, 'app-private');
    await new Applicant(server.url).cancelFlow(made.start_url);
    const failed = async () =>
      (await server.lender().get('/webhook-deliveries?status=failed').expect(200)).body.items;
    await waitUntil('a dead letter', async () => (await failed()).length === 1);
    expect((await failed())[0]).toMatchObject({ attempts: 2, last_error: 'address_refused' });
    expect(receiver.deliveries).toHaveLength(0);
  });
});

describe('GET /integrator/v1/events (catch-up)', () => {
  it('pages through every event oldest first; next is the cursor to continue from, the same again when nothing happened', async () => {
    const { server, receiver } = await setup({
      env: { WEBHOOK_RETRY_SCHEDULE_S: '0.2' },
      receiver: { respond: () => ({ status: 503 }) },
    });
    const empty = await server.lender().get('/events').expect(200);
    expect(empty.body).toEqual({ items: [], next: '0' });
    const ids: string[] = [];
    for (const ref of ['cu-1', 'cu-2', 'cu-3']) {
      const made = await createVerification(server, ref);
      await new Applicant(server.url).cancelFlow(made.start_url);
      ids.push(made.id);
      await waitUntil(
        'the event',
        async () => (await server.lender().get('/events').expect(200)).body.items.length === ids.length,
      );
    }
    const seen: Array<{ id: string; type: string; data: { id: string } }> = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await server
        .lender()
        .get(`/events?limit=2${cursor ? `&after=${cursor}` : ''}`)
        .expect(200);
      seen.push(...res.body.items);
      if (res.body.items.length === 0) {
        expect(res.body.next).toBe(cursor);
        break;
      }
      cursor = res.body.next;
    }
    expect(seen.map((e) => e.data.id)).toEqual(ids);
    expect(seen[0]).toEqual({
      id: webhookIdFor(ids[0] as string, 'cancelled'),
      type: 'verification.cancelled',
      timestamp: expect.any(String),
      data: { id: ids[0], reference: 'cu-1', status: 'cancelled', error: null },
    });
    // The events are there whatever the deliveries did (here: the receiver is down).
    expect(receiver.deliveries.every((d) => d.status === 503)).toBe(true);
  });

  it('deleting a verification removes its events too: catch-up no longer lists it, and no event key is left', async () => {
    const { server } = await setup({ env: { WEBHOOK_RETRY_SCHEDULE_S: '0.2' } });
    const made = await createVerification(server, 'cu-delete');
    await new Applicant(server.url).cancelFlow(made.start_url);
    await waitUntil(
      'the event',
      async () => (await server.lender().get('/events').expect(200)).body.items.length === 1,
    );
    await server.lender().delete(`/verifications/${made.id}`).expect(204);
    expect((await server.lender().get('/events').expect(200)).body.items).toEqual([]);
    const redis = await inspectRedis();
    try {
      expect((await redis.keysUnder(server.prefix)).filter((k) => k.includes('{events}'))).toEqual([]);
    } finally {
      await redis.close();
    }
  });

  it('refuses bad cursors, limits and parameters', async () => {
    const { server } = await setup();
    for (const query of [
      'after=abc',
      'after=-1',
      'limit=0',
      'limit=501',
      'limit=x',
      'foo=1',
      'after=1&after=2',
    ])
      expect((await server.lender().get(`/events?${query}`).expect(400)).body.error.code).toBe(
        'invalid_request',
      );
    for (const query of ['', '?status=delivered', '?status=failed&x=1'])
      await server.lender().get(`/webhook-deliveries${query}`).expect(400);
    await server.lender().post('/webhook-deliveries/not-an-id/redeliver', {}).expect(404);
    await server.lender().get('/events').set('authorization', 'Bearer nope').expect(401);
  });
});
