import { randomBytes } from 'node:crypto';
import { AppError } from '../errors';
import { ProviderError } from '../provider/provider-errors';
import { deadlineJob } from '../jobs/verification-job';
import { hashOf, newState } from './flow-store';
import type { VerificationDeps } from './verification-deps';

export interface StartInput {
  /** The browser session's owner binding (see http/session-middleware). */
  owner: string;
  iban?: string | undefined;
  language?: string | undefined;
  /** A start ticket from the integrator API: starts that verification instead of a new one. */
  ticket?: string | undefined;
}

export interface StartResult {
  verificationId: string;
  location: string;
  /**
   * Origins the page may accept the widget's postMessage from: this flow's widget origin first,
   * then the allow-list (the widget may move between the provider's hosts while it runs).
   */
  widgetOrigins: string[];
}

/**
 * Creates a one-time widget link at the provider with a fresh state, remembers the flow by the
 * state's hash, and returns where to send the browser.
 */
export async function startVerification(deps: VerificationDeps, input: StartInput): Promise<StartResult> {
  const { settings, clock } = deps;
  if (input.ticket === undefined && settings.requireStartTicket) {
    throw new AppError('ticket_required', 'A verification can only be started from a link sent to you.');
  }
  const ownerHash = hashOf(input.owner);
  // Redeeming first: a used, expired or unknown ticket costs no widget link at the provider.
  const redeemed = input.ticket === undefined ? undefined : await redeemTicket(deps, input.ticket, ownerHash);
  const ticketed = redeemed?.verificationId;
  // The lender's prefill wins over what the browser asks for.
  const iban = redeemed?.prefill.iban ?? input.iban;
  const language = redeemed?.prefill.language ?? input.language;
  const state = newState();
  const stateHash = hashOf(state);
  let link: { location: string; flowId: string };
  try {
    link = await deps.provider.createWidgetLink({
      redirectUri: settings.redirectUri,
      state,
      language: language ?? settings.defaultLanguage,
      reportingPeriodMonths: settings.reportingPeriodMonths,
      iban,
    });
  } catch (err) {
    throw providerFailure(err);
  }
  assertAllowedWidget(link.location, settings.widgetAllowedOrigins);
  const widgetOrigin = new URL(link.location).origin;

  const now = clock();
  const verificationId = ticketed ?? newVerificationId();
  // Indexed first, so nothing of this verification exists that a DELETE of the browser could miss.
  await deps.owners.add(ownerHash, verificationId);
  await deps.flows.create(stateHash, { verificationId, ownerHash, flowId: link.flowId, createdAt: now });
  const awaiting = {
    status: 'awaiting_user',
    flowId: link.flowId,
    awaitingUntil: now + settings.flowTtlMs,
    stateHash,
    widgetOrigin,
    updatedAt: now,
  } as const;
  if (ticketed === undefined) {
    // Queued before the state exists: whatever happens next, the verification is expired on time.
    await deps.jobs.add(deadlineJob(verificationId, settings.flowTtlMs));
    await deps.verifications.create(verificationId, { ...awaiting, createdAt: now, reference: null });
  } else {
    let replaced: string | undefined;
    const moved = await deps.verifications.transitionFresh(verificationId, (meta) => {
      if (meta.status !== 'created' && meta.status !== 'awaiting_user') return null;
      replaced = meta.stateHash;
      return { meta: { ...meta, ...awaiting } };
    });
    if (!moved?.written) {
      await deps.flows.remove(stateHash);
      throw new AppError('ticket_used', 'This start link was already used.');
    }
    // The same browser started again (a reload): its earlier widget link is no longer valid.
    if (replaced) await deps.flows.remove(replaced);
  }
  deps.telemetry.flow('started');
  deps.logger.info({ verificationId }, 'verification started');
  return {
    verificationId,
    location: link.location,
    widgetOrigins: [...new Set([widgetOrigin, ...settings.widgetAllowedOrigins])],
  };
}

/** Verification ids carry a type prefix, as the lender sees them. */
export function newVerificationId(): string {
  return `ver_${randomBytes(16).toString('base64url')}`;
}

async function redeemTicket(
  deps: VerificationDeps,
  ticket: string,
  ownerHash: string,
): Promise<{ verificationId: string; prefill: { iban?: string; language?: string } }> {
  const verificationId = await deps.tickets.redeem(ticket, ownerHash);
  const current = await deps.verifications.read(verificationId);
  if (!current) throw new AppError('ticket_invalid', 'This start link is not valid.');
  if (current.meta.status !== 'created' && current.meta.status !== 'awaiting_user') {
    throw new AppError('ticket_used', 'This start link was already used.');
  }
  const sealed = current.meta.prefill;
  const prefill = sealed
    ? (JSON.parse(deps.cipher.open(sealed, deps.keys.meta(verificationId))) as {
        iban?: string;
        language?: string;
      })
    : {};
  return { verificationId, prefill };
}

function assertAllowedWidget(location: string, allowed: string[]): void {
  const origin = new URL(location).origin;
  if (!allowed.includes(origin)) {
    throw new AppError(
      'widget_origin_not_allowed',
      'The provider returned a widget address that is not on the allow-list.',
      {
        details: { origin },
      },
    );
  }
}

/** Maps a provider failure to the answer the browser gets. */
export function providerFailure(err: unknown): AppError {
  if (!(err instanceof ProviderError))
    return err instanceof AppError ? err : new AppError('internal_error', 'Unexpected error', { cause: err });
  switch (err.failure) {
    case 'timeout':
      return new AppError(
        'provider_timeout',
        'The bank data provider did not answer in time. Please retry.',
        { cause: err },
      );
    case 'unavailable':
      return new AppError(
        'provider_unavailable',
        'The bank data provider is unavailable. Please retry shortly.',
        {
          cause: err,
          retryAfterS: Math.ceil((err.retryAfterMs ?? 5000) / 1000),
        },
      );
    default:
      return new AppError('provider_error', 'The bank data provider refused the request.', { cause: err });
  }
}
