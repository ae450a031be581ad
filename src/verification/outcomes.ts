import type { ProviderFailure } from '../provider/provider-errors';

/**
 * The outcome vocabulary: why a verification ended `failed` or `expired`. These codes are the
 * `error.code` of the applicant's poll, of the integrator API and of webhooks, and the reasons in
 * `/?verification=failed&reason=…`; the demo page has a text for each (a test holds the two lists
 * equal). Messages are for people; clients branch on the code.
 */
export const OUTCOME_MESSAGES = {
  bank_connection_failed: 'The bank connection was not completed.',
  exchange_timeout: 'The bank data provider did not answer in time. Please start again.',
  provider_unavailable: 'The bank data provider is unavailable. Please start again later.',
  code_rejected: 'The bank data provider did not accept the authorization. Please start again.',
  report_timeout: 'The income report did not become available in time.',
  report_unavailable: 'The provider could not produce the income report.',
  report_path_misconfigured:
    'The income report could not be fetched because of a server configuration problem.',
  session_expired: 'The bank connection has expired. Please connect again.',
  reconnect_required: 'The bank connection could not be renewed. Please connect again.',
  flow_expired: 'The bank connection was not completed in time. Please start again.',
  ticket_expired: 'The start link was not used in time.',
  access_lost:
    'The bank no longer grants access to this account data (the provider refused to renew it). Start a new verification.',
  access_expired: 'The ongoing access reached its end (access_expires_at).',
  report_expired: 'The report is no longer kept. Please verify again.',
  verification_expired: 'This verification has expired. Please start again.',
} as const;

export type OutcomeCode = keyof typeof OUTCOME_MESSAGES;
export interface Outcome {
  code: OutcomeCode;
  message: string;
}

export const outcome = (code: OutcomeCode): Outcome => ({ code, message: OUTCOME_MESSAGES[code] });

/**
 * The one mapping from a provider failure to what it means for a verification, by the step that
 * failed. `retry`: transient, the verification stays where it is (the report job asks again).
 */
export function providerFailureOutcome(
  step: 'exchange' | 'report',
  failure: ProviderFailure,
): OutcomeCode | 'retry' {
  if (step === 'exchange') {
    // The code is single use: whatever went wrong, the verification cannot continue.
    if (failure === 'timeout') return 'exchange_timeout';
    if (failure === 'unavailable') return 'provider_unavailable';
    return 'code_rejected';
  }
  if (failure === 'unauthorized') return 'session_expired';
  if (failure === 'rejected') return 'report_unavailable';
  return 'retry';
}

/**
 * A verification nobody finished is expired from the moment its deadline passes, before its job
 * records it: `ticket_expired` when the start link was never used, `flow_expired` when the person
 * left the bank step unfinished. Undefined while there is still time (or the state is past that).
 */
export function lapsedOutcome(
  meta: { status: string; awaitingUntil: number },
  now: number,
): Outcome | undefined {
  if (now <= meta.awaitingUntil) return undefined;
  if (meta.status === 'created') return outcome('ticket_expired');
  if (meta.status === 'awaiting_user') return outcome('flow_expired');
  return undefined;
}
