import { AppError } from '../errors';
import type { JobQueue } from '../jobs/job-queue';
import { webhookJob, type WebhookEndpoint } from '../jobs/webhook-job';
import type { WebhookTelemetry } from '../telemetry';
import type { EventLog, LoggedEvent } from './event-log';

export interface WebhookAdminDeps {
  log: EventLog;
  jobs: JobQueue;
  endpoint: WebhookEndpoint;
  /** False when WEBHOOK_URL is unset: events are logged for catch-up, nothing is sent. */
  deliver: boolean;
  telemetry: WebhookTelemetry;
}

/** The lender's view of deliveries: dead letters, sending one again, and the catch-up read of the event log. */
export function createWebhookAdmin(deps: WebhookAdminDeps) {
  const deadLetter = (logged: LoggedEvent) => ({
    webhook_id: logged.event.id,
    event: logged.event.type,
    data: logged.event.data,
    timestamp: logged.event.timestamp,
    attempts: logged.delivery.attempts,
    last_error: logged.delivery.lastError,
    failed_at: new Date(logged.delivery.failedAt ?? 0).toISOString(),
  });

  return {
    async failed(limit: number) {
      return { items: (await deps.log.deadLetters(limit)).map(deadLetter) };
    },

    /** Sends a dead (or delivered) event again under the same webhook id, with a fresh attempt count. */
    async redeliver(webhookId: string) {
      if (!deps.deliver)
        throw new AppError(
          'webhooks_disabled',
          'Webhooks are off (WEBHOOK_URL is not set); read GET /integrator/v1/events.',
        );
      const outcome = await deps.log.requeue(webhookId);
      if (outcome === 'unknown') throw new AppError('not_found', 'No webhook event with this id.');
      if (outcome === 'pending')
        throw new AppError(
          'delivery_pending',
          'This event is still being delivered; wait for it to succeed or fail.',
        );
      // The lender says its endpoint is back: this instance tries it again.
      if (deps.endpoint.disabled) {
        deps.endpoint.disabled = false;
        deps.telemetry.webhookEndpointDisabled(false);
      }
      const spec = webhookJob(webhookId);
      if (!(await deps.jobs.retryFailed(spec.id))) await deps.jobs.add(spec);
      return { webhook_id: webhookId, status: 'pending' as const };
    },

    events(after: string | undefined, limit: number) {
      return deps.log.page(after, limit);
    },
  };
}

export type WebhookAdmin = ReturnType<typeof createWebhookAdmin>;
