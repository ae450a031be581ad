import type { VerificationDeps } from './verification-deps';

/** Forgets a verification: its pending flow, tokens, cached report and state. Idempotent. */
export async function deleteVerification(deps: VerificationDeps, verificationId: string): Promise<void> {
  const current = await deps.verifications.read(verificationId);
  if (current?.meta.stateHash) await deps.flows.remove(current.meta.stateHash);
  await deps.verifications.removeAll(verificationId);
  deps.logger.info({ verificationId }, 'verification deleted on request');
}
