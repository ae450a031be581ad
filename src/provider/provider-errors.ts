export type ProviderEndpoint = 'link' | 'token' | 'refresh' | 'report' | 'revoke';

/**
 * - `rejected`: the provider answered and said no (4xx other than 401); final.
 * - `unauthorized`: 401; for reports, the access token is no longer good.
 * - `unavailable`: could not connect, or the provider answered 5xx/429.
 * - `timeout`: no complete answer in time.
 * - `invalid_response`: the provider answered 2xx with a body we cannot use.
 */
export type ProviderFailure = 'rejected' | 'unauthorized' | 'unavailable' | 'timeout' | 'invalid_response';

export class ProviderError extends Error {
  readonly endpoint: ProviderEndpoint;
  readonly failure: ProviderFailure;
  readonly status: number | undefined;
  /** finX error code (e.g. 1002) or OAuth error string (e.g. invalid_grant), when the body had one. */
  readonly providerCode: number | string | undefined;
  readonly retryAfterMs: number | undefined;
  /**
   * False only when the request certainly never reached the provider (connection refused or not
   * established). A call that may have reached it must not be repeated if it is not idempotent.
   */
  readonly mayHaveReachedProvider: boolean;

  constructor(init: {
    endpoint: ProviderEndpoint;
    failure: ProviderFailure;
    message: string;
    status?: number;
    providerCode?: number | string;
    retryAfterMs?: number;
    mayHaveReachedProvider: boolean;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.name = 'ProviderError';
    this.endpoint = init.endpoint;
    this.failure = init.failure;
    this.status = init.status;
    this.providerCode = init.providerCode;
    this.retryAfterMs = init.retryAfterMs;
    this.mayHaveReachedProvider = init.mayHaveReachedProvider;
  }
}
