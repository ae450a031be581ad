import { AppError } from '../errors';
import type { TokenSet } from '../provider/provider-client';
import { ProviderError } from '../provider/provider-errors';
import { settleJob } from '../jobs/verification-job';
import { hashOf } from './flow-store';
import type { VerificationDeps } from './verification-deps';
import type { VerificationMeta } from './verification-store';
import { outcome, providerFailureOutcome, type OutcomeCode } from './outcomes';

/** The widget's way back, already checked for shape by the HTTP layer. */
export interface CallbackParams {
  state: string;
  success: boolean;
  cancel: boolean;
  code: string | undefined;
  flowId: string | undefined;
}

export type CallbackOutcome =
  | {
      status: 'processing';
      verificationId: string;
      /** Wakes waiting polls; call it once the answer carrying the renewed session cookie is out. */
      announce: () => Promise<void>;
    }
  | { status: 'cancelled'; verificationId: string }
  | { status: 'failed'; verificationId: string; error: { code: string; message: string } };

/**
 * Checks the state against this browser's flows (single use), then records the outcome; on success
 * exchanges the code once (it is single use: never retried) and stores the tokens server-side.
 */
export async function completeCallback(
  deps: VerificationDeps,
  owner: string | undefined,
  params: CallbackParams,
): Promise<CallbackOutcome> {
  const { flows, verifications, clock, telemetry, logger } = deps;
  if (!owner) throw invalidState();
  const stateHash = hashOf(params.state);
  const found = await flows.find(stateHash);
  // A state from another browser is refused without consuming it: it still belongs to its owner.
  if (!found || found.record.ownerHash !== hashOf(owner)) throw invalidState();
  const { record, raw } = found;
  if (params.flowId !== undefined && params.flowId !== record.flowId) {
    throw new AppError('invalid_callback', 'The callback does not belong to the flow that was started.');
  }
  if (!(await flows.consume(stateHash, raw))) {
    throw new AppError('state_already_used', 'This verification link was already used.');
  }

  const id = record.verificationId;
  const current = await verifications.read(id);
  if (!current || current.meta.status !== 'awaiting_user') {
    throw new AppError(
      'verification_not_pending',
      'This verification is no longer waiting for the bank connection.',
    );
  }
  const base: VerificationMeta = { ...current.meta, stateHash: undefined, updatedAt: clock() };
  // Queued before the outcome is recorded, so a crash in between cannot lose the follow-up work
  // (report fetch, events); the job waits for the outcome and is brought forward once it is written.
  const settle = settleJob(id);
  await deps.jobs.add(settle);
  const settleNow = () => deps.jobs.runNow(settle);

  if (params.cancel) {
    await verifications.transition(id, current, { ...base, status: 'cancelled' });
    await settleNow();
    telemetry.flow('cancelled');
    logger.info({ verificationId: id }, 'verification cancelled by the user');
    return { status: 'cancelled', verificationId: id };
  }
  const fail = async (code: OutcomeCode): Promise<CallbackOutcome> => {
    const { message } = outcome(code);
    await verifications.transition(id, current, { ...base, status: 'failed', error: { code, message } });
    await settleNow();
    telemetry.flow('failed');
    logger.info({ verificationId: id, reason: code }, 'verification failed');
    return { status: 'failed', verificationId: id, error: { code, message } };
  };
  if (!params.success || params.code === undefined) {
    return fail('bank_connection_failed');
  }

  let tokens: TokenSet;
  try {
    tokens = await deps.provider.exchangeCode(params.code, deps.settings.redirectUri);
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    logger.warn(
      { verificationId: id, failure: err.failure, status: err.status, providerCode: err.providerCode },
      'code exchange failed',
    );
    return fail(providerFailureOutcome('exchange', err.failure) as OutcomeCode);
  }

  const now = clock();
  // Ongoing access lasts from the consent (this exchange) for at most ONGOING_ACCESS_MAX_DAYS.
  const accessExpiresAt =
    current.meta.access === 'ongoing' ? now + deps.settings.ongoingMaxAccessMs : undefined;
  const next: VerificationMeta = {
    ...base,
    status: 'processing',
    exchangedAt: now,
    readyBy: now + deps.settings.readyTimeoutMs,
    ...(accessExpiresAt !== undefined ? { accessExpiresAt } : {}),
  };
  const tokenRecord = deps.tokens.tokenRecordFor(tokens);
  // Announced by the caller: a page woken now would ask again with the session cookie this callback
  // is about to replace, and find nothing.
  const written = await verifications.transition(
    id,
    current,
    next,
    [
      deps.tokenStore.initialWrite(
        id,
        accessExpiresAt !== undefined ? { ...tokenRecord, keepUntil: accessExpiresAt } : tokenRecord,
      ),
    ],
    { announce: false },
  );
  if (!written) {
    throw new AppError(
      'verification_not_pending',
      'This verification was deleted while the bank connection completed.',
    );
  }
  await settleNow();
  telemetry.flow('completed');
  logger.info({ verificationId: id }, 'verification completed; report pending');
  return { status: 'processing', verificationId: id, announce: () => verifications.announce(id, next) };
}

function invalidState(): AppError {
  return new AppError(
    'invalid_state',
    'This callback does not match a verification started in this browser (unknown, expired or already used).',
  );
}
