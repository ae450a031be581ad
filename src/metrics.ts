import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueCounts } from './jobs/job-queue';
import type { Telemetry, WebhookTelemetry } from './telemetry';

export interface Metrics extends Telemetry, WebhookTelemetry {
  registry: Registry;
  integratorRequest(route: string, status: number): void;
  /** Reports the job queue's depth and the age of its oldest waiting job at every scrape. */
  watchQueue(counts: () => Promise<QueueCounts>): void;
}

/** Prometheus metrics for one runtime (its own registry, so two runtimes in one process do not collide). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bff_' });
  const flows = new Counter({
    name: 'bff_verification_events_total',
    help: 'Verification funnel: started, completed (code exchanged), ready, cancelled, failed, expired',
    labelNames: ['event'],
    registers: [registry],
  });
  const providerCalls = new Histogram({
    name: 'bff_provider_request_duration_seconds',
    help: 'finX API calls by endpoint and outcome (HTTP status, timeout, network_error)',
    labelNames: ['endpoint', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  const refreshes = new Counter({
    name: 'bff_token_refreshes_total',
    help: 'Token refresh outcomes: refreshed, reused (someone else refreshed), rejected, uncertain, failed',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const reportCache = new Counter({
    name: 'bff_report_cache_total',
    help: 'Ready-report reads served from the in-process cache (hit) or decrypted from the store (miss)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'bff_store_errors_total',
    help: 'Requests answered 503 because Redis did not answer in time',
    registers: [registry],
  });
  const lockWait = new Histogram({
    name: 'bff_refresh_lock_wait_seconds',
    help: 'Time a request waited for the refresh lock or for another holder to finish',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'bff_jobs_total',
    help: 'Background job runs by job name and outcome: done, retry (not ready yet), failed (dead letter), error (threw)',
    labelNames: ['job', 'outcome'],
    registers: [registry],
  });
  const integrator = new Counter({
    name: 'bff_integrator_requests_total',
    help: 'Integrator API requests by route pattern and HTTP status',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const webhookAttempts = new Counter({
    name: 'bff_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, retry, failed = schedule exhausted, gone = 410) and attempt number',
    labelNames: ['outcome', 'attempt'],
    registers: [registry],
  });
  const webhookDeadLetters = new Counter({
    name: 'bff_webhook_dead_letters_total',
    help: 'Webhook events given up (schedule exhausted, 410, endpoint disabled); listed by GET /integrator/v1/webhook-deliveries?status=failed',
    registers: [registry],
  });
  const webhookLatency = new Histogram({
    name: 'bff_webhook_delivery_latency_seconds',
    help: "Time from a verification's state change to the receiver's 2xx",
    buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 30, 300, 1800, 7200, 86400],
    registers: [registry],
  });
  const webhookDisabled = new Gauge({
    name: 'bff_webhook_endpoint_disabled',
    help: 'Whether this instance stopped delivering webhooks after the endpoint answered 410 Gone (1) or not (0)',
    registers: [registry],
  });
  webhookDisabled.set(0);
  let queueCounts: (() => Promise<QueueCounts>) | undefined;
  let lastCounts: Promise<QueueCounts | undefined> | undefined;
  // One read of the queue per scrape serves both gauges.
  const readCounts = () => {
    lastCounts ??= (queueCounts?.() ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .finally(() => setTimeout(() => (lastCounts = undefined), 100).unref());
    return lastCounts;
  };
  new Gauge({
    name: 'bff_job_queue_depth',
    help: 'Background jobs by state: waiting (due, no worker yet), delayed (not due), active, failed (dead letters)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await readCounts();
      if (!counts) return;
      for (const state of ['waiting', 'delayed', 'active', 'failed'] as const)
        this.set({ state }, counts[state]);
    },
  });
  new Gauge({
    name: 'bff_job_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job that is due and waits for a worker',
    registers: [registry],
    async collect() {
      const counts = await readCounts();
      if (counts) this.set(counts.oldestWaitingAgeMs / 1000);
    },
  });
  const reportPathMisconfigured = new Counter({
    name: 'bff_report_path_misconfigured_total',
    help: 'Times every income report request answered 404 for longer than REPORT_PATH_ALERT_S (check FINX_REPORT_PATH)',
    registers: [registry],
  });
  for (const event of ['started', 'completed', 'ready', 'cancelled', 'failed', 'expired'])
    flows.inc({ event }, 0);

  return {
    registry,
    flow: (event) => flows.inc({ event }),
    providerCall: (endpoint, outcome, ms) => providerCalls.observe({ endpoint, outcome }, ms / 1000),
    refresh: (outcome) => refreshes.inc({ outcome }),
    reportCache: (outcome) => reportCache.inc({ outcome }),
    storeError: () => storeErrors.inc(),
    refreshLockWait: (ms) => lockWait.observe(ms / 1000),
    job: (job, outcome) => jobs.inc({ job, outcome }),
    integratorRequest: (route, status) => integrator.inc({ route, status: String(status) }),
    webhookAttempt: (outcome, attempt) =>
      webhookAttempts.inc({ outcome, attempt: String(Math.min(attempt, 20)) }),
    webhookLatency: (ms) => webhookLatency.observe(ms / 1000),
    webhookDeadLetter: () => webhookDeadLetters.inc(),
    webhookEndpointDisabled: (disabled) => webhookDisabled.set(disabled ? 1 : 0),
    watchQueue: (counts) => {
      queueCounts = counts;
    },
    reportPathMisconfigured: () => reportPathMisconfigured.inc(),
  };
}
