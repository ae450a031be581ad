import type { Logger } from 'pino';
import type { EventLog } from '../integrator/event-log';
import type { PostOutcome, WebhookClient } from '../integrator/webhook-client';
import { verificationEvent, type OutgoingEvent } from '../integrator/webhook-events';
import { signWebhook } from '../integrator/webhook-signature';
import type { WebhookTelemetry } from '../telemetry';
import type { VerificationMeta } from '../verification/verification-store';
import { done, giveUp, retry, type JobOutcome, type JobQueue, type JobRun, type JobSpec } from './job-queue';

export const WEBHOOK_JOB = 'webhook';

/** One delivery job per event, its id derived from the event's: enqueueing twice is a no-op. */
export const webhookJob = (webhookId: string): JobSpec => ({
  name: WEBHOOK_JOB,
  id: `webhook-${webhookId}`,
  data: { webhookId },
});

/** The endpoint's health as this process knows it: a 410 turns deliveries off until restart (or a redeliver call). */
export interface WebhookEndpoint {
  disabled: boolean;
}

export interface WebhookSettings {
  url: string;
  /** HMAC keys: the current secret first, then the previous ones (rotation). */
  keys: Buffer[];
  /** Delays before each retry, after the immediate first attempt. */
  scheduleMs: number[];
}

export interface WebhookDeliveryDeps {
  log: EventLog;
  client: WebhookClient;
  settings: WebhookSettings;
  endpoint: WebhookEndpoint;
  clock: () => number;
  logger: Logger;
  telemetry: WebhookTelemetry;
  random?: () => number;
}

/** The floor after a timeout or a 429 (the specification's), never above the longest configured delay. */
const SLOW_DOWN_MS = 60_000;

/**
 * Tells the event log and the delivery queue that a verification ended. Called by the verification
 * job every time it finds a verification settled, also again after a crash: the event is appended
 * once (its id is derived from verification and outcome) and a delivery is queued unless one is
 * done or dead. Because the verification job itself was queued before the state change and runs
 * again until this returned, a crash between the state change and this call loses nothing.
 */
export function createSettledHook(deps: { log: EventLog; jobs: JobQueue; deliver: boolean }) {
  const announce = createAnnouncer(deps);
  return (verificationId: string, meta: VerificationMeta): Promise<void> =>
    announce(verificationEvent(verificationId, meta));
}

/** Appends an event to the log (idempotent by its id) and queues its delivery unless done or dead. */
export function createAnnouncer(deps: { log: EventLog; jobs: JobQueue; deliver: boolean }) {
  return async ({ event, body, changedAt }: OutgoingEvent): Promise<void> => {
    const { delivery } = await deps.log.append(event, body, changedAt);
    if (deps.deliver && delivery.status === 'pending') await deps.jobs.add(webhookJob(event.id));
  };
}

/** One delivery attempt of one event, and what comes next: done, a retry by the schedule, or a dead letter. */
export async function deliverWebhook(
  deps: WebhookDeliveryDeps,
  data: Record<string, unknown>,
  _run: JobRun,
): Promise<JobOutcome> {
  const { log, settings, endpoint, telemetry, logger } = deps;
  const id = String(data.webhookId);
  const logged = await log.read(id);
  if (!logged) return done('gone');
  // A duplicate job (a re-run of the verification job after this one finished) sends nothing.
  if (logged.delivery.status !== 'pending') return done(logged.delivery.status);
  const dead = async (error: string) => {
    await log.update(id, { op: 'dead', error });
    telemetry.webhookDeadLetter();
    logger.warn({ webhookId: id, type: logged.event.type, error }, 'webhook delivery given up (dead letter)');
    return giveUp(error);
  };
  if (endpoint.disabled) return dead('endpoint_disabled');

  const attempt = await log.beginAttempt(id);
  if (attempt === undefined) return done('gone');
  const timestampS = Math.floor(deps.clock() / 1000);
  const body = Buffer.from(logged.body, 'utf8');
  const outcome = await deps.client.post(
    settings.url,
    {
      'content-type': 'application/json',
      'user-agent': 'income-bff-webhooks/1',
      'webhook-id': id,
      'webhook-timestamp': String(timestampS),
      'webhook-signature': signWebhook(settings.keys, id, timestampS, body),
    },
    body,
  );

  if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
    await log.update(id, { op: 'delivered' });
    telemetry.webhookAttempt('delivered', attempt);
    telemetry.webhookLatency(Math.max(0, deps.clock() - logged.changedAt));
    return done('delivered');
  }
  const error = describe(outcome);
  if (outcome.kind === 'response' && outcome.status === 410) {
    endpoint.disabled = true;
    telemetry.webhookAttempt('gone', attempt);
    telemetry.webhookEndpointDisabled(true);
    logger.error(
      { webhookId: id },
      'webhook endpoint answered 410 Gone: deliveries are off until restart, a config change or a redeliver call',
    );
    return dead(error);
  }
  if (outcome.kind === 'refused_address')
    logger.error({ webhookId: id, reason: outcome.message }, 'webhook endpoint address refused');
  if (attempt > settings.scheduleMs.length) {
    telemetry.webhookAttempt('failed', attempt);
    return dead(error);
  }
  const longest = Math.max(...settings.scheduleMs);
  const jitter = 0.8 + (deps.random ?? Math.random)() * 0.4;
  let delayMs = (settings.scheduleMs[attempt - 1] as number) * jitter;
  if (outcome.kind === 'response' && outcome.retryAfterMs !== undefined)
    delayMs = Math.max(delayMs, Math.min(outcome.retryAfterMs, longest));
  if (outcome.kind === 'timeout' || (outcome.kind === 'response' && outcome.status === 429))
    delayMs = Math.max(delayMs, Math.min(SLOW_DOWN_MS, longest));
  await log.update(id, { op: 'attempt_failed', error });
  telemetry.webhookAttempt('retry', attempt);
  return retry(delayMs, error);
}

function describe(outcome: PostOutcome): string {
  switch (outcome.kind) {
    case 'response':
      return outcome.status >= 300 && outcome.status < 400
        ? `redirect_${outcome.status} (not followed)`
        : `http_${outcome.status}`;
    case 'timeout':
      return 'timeout';
    case 'refused_address':
      return 'address_refused';
    case 'network_error':
      return `network_error: ${outcome.message}`;
  }
}

export function webhookProcessors(deps: WebhookDeliveryDeps) {
  return {
    [WEBHOOK_JOB]: (data: Record<string, unknown>, run: JobRun) => deliverWebhook(deps, data, run),
  };
}
