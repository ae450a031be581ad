import type { Logger } from 'pino';
import type { JobQueue } from '../jobs/job-queue';
import type { ProviderClient } from '../provider/provider-client';
import type { EnvelopeCipher } from '../storage/envelope-cipher';
import type { KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';
import type { Telemetry } from '../telemetry';
import type { TokenService } from '../tokens/token-service';
import type { TokenStore } from '../tokens/token-store';
import type { FlowStore } from './flow-store';
import type { StartTickets } from './start-tickets';
import type { OwnerIndex } from './owner-index';
import type { ReportStore } from './report-store';
import type { ReportPathMonitor } from './report-path-monitor';
import type { VerificationStore } from './verification-store';

export interface VerificationSettings {
  redirectUri: string;
  widgetAllowedOrigins: string[];
  reportingPeriodMonths: number;
  defaultLanguage: string;
  flowTtlMs: number;
  retentionMs: number;
  pollIntervalMs: number;
  /** Refuse starts without a ticket from the integrator API. */
  requireStartTicket: boolean;
  readyTimeoutMs: number;
  /** How long an ongoing access lasts from the consent (ONGOING_ACCESS_MAX_DAYS). */
  ongoingMaxAccessMs: number;
  /** Polls one browser may make of one verification per window. */
  pollLimit: { limit: number; windowMs: number };
}

/** Everything the verification flows use; built once in the composition root. */
export interface VerificationDeps {
  kv: KeyValueStore;
  keys: StorageKeys;
  flows: FlowStore;
  tickets: StartTickets;
  verifications: VerificationStore;
  reports: ReportStore;
  owners: OwnerIndex;
  tokenStore: TokenStore;
  tokens: TokenService;
  /** Durable background work (report readiness, expiry, webhooks). */
  jobs: JobQueue;
  provider: ProviderClient;
  cipher: EnvelopeCipher;
  clock: () => number;
  logger: Logger;
  telemetry: Telemetry;
  settings: VerificationSettings;
  /** Removes a verification's webhook events (the event log is not under its hash tag). */
  forgetEvents?(verificationId: string, reportUpdates: number): Promise<void>;
  /** Tells a wrong FINX_REPORT_PATH from reports not ready yet; absent: never judged. */
  reportPaths?: ReportPathMonitor;
}
