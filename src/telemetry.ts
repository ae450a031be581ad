import type { ProviderEndpoint } from './provider/provider-errors';

export type FlowEvent = 'started' | 'completed' | 'cancelled' | 'failed' | 'expired' | 'ready';

/** What the flows report about themselves; metrics implement it, tests and benchmarks may ignore it. */
export interface Telemetry {
  flow(event: FlowEvent): void;
  providerCall(endpoint: ProviderEndpoint, outcome: string, durationMs: number): void;
  refresh(outcome: 'refreshed' | 'reused' | 'rejected' | 'uncertain' | 'failed'): void;
  reportCache(outcome: 'hit' | 'miss'): void;
  storeError(): void;
  refreshLockWait(ms: number): void;
  /** A background job run ended: done, retry (not yet) or failed (dead letter). */
  job(name: string, outcome: 'done' | 'retry' | 'failed' | 'error'): void;
  /** Every report request answered 404 for longer than REPORT_PATH_ALERT_S. */
  reportPathMisconfigured(): void;
}

/** What webhook delivery reports about itself (src/metrics.ts implements it). */
export interface WebhookTelemetry {
  /** One delivery attempt ended: delivered (2xx), retry (failed, will retry), failed (failed, schedule exhausted), gone (410). */
  webhookAttempt(outcome: 'delivered' | 'retry' | 'failed' | 'gone', attempt: number): void;
  /** Time from the verification's state change to the receiver's 2xx. */
  webhookLatency(ms: number): void;
  webhookDeadLetter(): void;
  webhookEndpointDisabled(disabled: boolean): void;
}

export const noWebhookTelemetry: WebhookTelemetry = {
  webhookAttempt: () => undefined,
  webhookLatency: () => undefined,
  webhookDeadLetter: () => undefined,
  webhookEndpointDisabled: () => undefined,
};
