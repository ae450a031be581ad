import { randomBytes } from 'node:crypto';
import { AppError } from '../errors';
import { ProviderError } from '../provider/provider-errors';
import { hashOf, newState } from './flow-store';
import type { VerificationDeps } from './verification-deps';

export interface StartInput {
  /** The browser session's owner binding (see http/session-middleware). */
  owner: string;
  iban?: string | undefined;
  language?: string | undefined;
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
  const state = newState();
  const stateHash = hashOf(state);
  let link: { location: string; flowId: string };
  try {
    link = await deps.provider.createWidgetLink({
      redirectUri: settings.redirectUri,
      state,
      language: input.language ?? settings.defaultLanguage,
      reportingPeriodMonths: settings.reportingPeriodMonths,
      iban: input.iban,
    });
  } catch (err) {
    throw providerFailure(err);
  }
  assertAllowedWidget(link.location, settings.widgetAllowedOrigins);
  const widgetOrigin = new URL(link.location).origin;

  const verificationId = randomBytes(16).toString('base64url');
  const now = clock();
  const ownerHash = hashOf(input.owner);
  // Indexed first, so nothing of this verification exists that a DELETE of the browser could miss.
  await deps.owners.add(ownerHash, verificationId);
  await deps.flows.create(stateHash, {
    verificationId,
    ownerHash,
    flowId: link.flowId,
    createdAt: now,
  });
  await deps.verifications.create(verificationId, {
    status: 'awaiting_user',
    flowId: link.flowId,
    createdAt: now,
    awaitingUntil: now + settings.flowTtlMs,
    stateHash,
    widgetOrigin,
  });
  deps.telemetry.flow('started');
  deps.logger.info({ verificationId }, 'verification started');
  return {
    verificationId,
    location: link.location,
    widgetOrigins: [...new Set([widgetOrigin, ...settings.widgetAllowedOrigins])],
  };
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
