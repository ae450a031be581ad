import pino from 'pino';
import { DEFAULT_WEBHOOK_SCHEDULE_S } from '../../src/config';
import { createMemoryEventLog } from '../../src/integrator/event-log';
import type { PostOutcome, WebhookClient } from '../../src/integrator/webhook-client';
import { verificationEvent } from '../../src/integrator/webhook-events';
import { deliverWebhook, type WebhookDeliveryDeps } from '../../src/jobs/webhook-job';
import { noWebhookTelemetry } from '../../src/telemetry';

// The retry policy of one delivery attempt as a plain function: the outcome of the HTTP call is
// given (the real client is exercised against real receivers in test/integrator/webhooks.test.ts).

const now = 1_796_119_200_000;
async function attempt(outcomes: PostOutcome[], random = 0.5) {
  const log = createMemoryEventLog({ clock: () => now, retentionMs: 86400_000 });
  const { event, body, changedAt } = verificationEvent('ver_q3mK7cN1xY5tR8wB2vZ4aQ', {
    status: 'ready',
    flowId: 'f',
    createdAt: now - 1000,
    updatedAt: now - 10,
    awaitingUntil: now,
    reference: 'app-1',
  });
  await log.append(event, body, changedAt);
  const sent: Array<Record<string, string>> = [];
  const client: WebhookClient = {
    post: async (_url, headers) => {
      sent.push(headers);
      return outcomes[Math.min(sent.length - 1, outcomes.length - 1)] as PostOutcome;
    },
    close: async () => undefined,
  };
  const deps: WebhookDeliveryDeps = {
    log,
    client,
    settings: {
      url: 'https://lender.example/h',
      keys: [Buffer.alloc(32, 1)],
      scheduleMs: DEFAULT_WEBHOOK_SCHEDULE_S.map((s) => s * 1000),
    },
    endpoint: { disabled: false },
    clock: () => now,
    logger: pino({ level: 'silent' }),
    telemetry: noWebhookTelemetry,
    random: () => random,
  };
  const results = [];
  for (let run = 1; run <= outcomes.length; run++)
    results.push(await deliverWebhook(deps, { webhookId: event.id }, { id: `webhook-${event.id}`, run }));
  return { results, sent, log, id: event.id, deps };
}
const response = (status: number, retryAfterMs?: number): PostOutcome => ({
  kind: 'response',
  status,
  retryAfterMs,
});

describe('one webhook delivery attempt', () => {
  it('follows the schedule with ±20 % jitter', async () => {
    expect((await attempt([response(503)], 0)).results[0]).toMatchObject({ kind: 'retry', delayMs: 4000 });
    expect((await attempt([response(503)], 1)).results[0]).toMatchObject({ kind: 'retry', delayMs: 6000 });
    const { results } = await attempt([response(500), response(500), response(500)], 0.5);
    expect(results.map((r) => (r.kind === 'retry' ? r.delayMs : r.kind))).toEqual([5000, 300_000, 1_800_000]);
  });

  it('waits at least 60 s after a timeout or a 429, and honours Retry-After up to the longest delay', async () => {
    expect((await attempt([{ kind: 'timeout' }])).results[0]).toMatchObject({
      kind: 'retry',
      delayMs: 60_000,
      reason: 'timeout',
    });
    expect((await attempt([response(429)])).results[0]).toMatchObject({ kind: 'retry', delayMs: 60_000 });
    expect((await attempt([response(503, 7200_000)])).results[0]).toMatchObject({ delayMs: 7200_000 });
    expect((await attempt([response(503, 10 * 86400_000)])).results[0]).toMatchObject({ delayMs: 86400_000 });
    // A shorter Retry-After does not bring the retry forward.
    expect((await attempt([response(503, 1000)])).results[0]).toMatchObject({ delayMs: 5000 });
  });

  it('counts a redirect as a failure and gives up after the last delay of the schedule', async () => {
    const outcomes = Array.from({ length: 10 }, () => response(302));
    const { results, log, id, sent } = await attempt(outcomes);
    expect(results[0]).toMatchObject({ kind: 'retry', reason: 'redirect_302 (not followed)' });
    expect(results.slice(0, 9).every((r) => r.kind === 'retry')).toBe(true);
    expect(results[9]).toMatchObject({ kind: 'failed', reason: 'redirect_302 (not followed)' });
    expect(sent).toHaveLength(10);
    expect((await log.read(id))?.delivery).toMatchObject({ status: 'failed', attempts: 10 });
    expect(new Set(sent.map((h) => h['webhook-id'])).size).toBe(1);
  });

  it('410 gives up at once and disables the endpoint; a delivered event is never sent again', async () => {
    const gone = await attempt([response(410)]);
    expect(gone.results[0]).toMatchObject({ kind: 'failed', reason: 'http_410' });
    expect(gone.deps.endpoint.disabled).toBe(true);
    const ok = await attempt([response(200), response(200)]);
    expect(ok.results.map((r) => r.kind)).toEqual(['done', 'done']);
    expect(ok.sent).toHaveLength(1);
  });
});
