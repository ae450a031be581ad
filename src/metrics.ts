import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Telemetry } from './telemetry';

export interface Metrics extends Telemetry {
  registry: Registry;
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
    reportPathMisconfigured: () => reportPathMisconfigured.inc(),
  };
}
