import { hashOf } from './flow-store';
import type { VerificationDeps } from './verification-deps';

/**
 * Forgets a verification: its pending flow, tokens, cached report, state and webhook events.
 * Idempotent. An ongoing access ends with it: its keep-alive job finds nothing on its next run. Where a revocation endpoint is configured the refresh token is revoked first, best
 * effort: the data is deleted whether or not the provider answers.
 */
export async function deleteVerification(deps: VerificationDeps, verificationId: string): Promise<void> {
  const current = await deps.verifications.read(verificationId);
  if (current?.meta.stateHash) await deps.flows.remove(current.meta.stateHash);
  const tokens = await deps.tokenStore.read(verificationId).catch(() => null);
  const refreshToken = tokens?.record.refreshToken;
  if (refreshToken) {
    await deps.provider.revokeToken(refreshToken).catch((err: unknown) => {
      deps.logger.warn(
        { verificationId, err: { message: (err as Error).message } },
        'token revocation failed; deleting anyway',
      );
    });
  }
  await deps.forgetEvents?.(verificationId, current?.meta.reportUpdates ?? 0);
  await deps.verifications.removeAll(verificationId);
  deps.logger.info({ verificationId }, 'verification deleted on request');
}

/**
 * Forgets every verification a browser started (its owner's index), not only the one it looks at:
 * an earlier one's report and tokens, and a flow pending in another tab. Each verification's keys
 * share one hash tag, so every delete stays within one Redis Cluster slot.
 */
export async function deleteBrowserVerifications(
  deps: VerificationDeps,
  owner: string | undefined,
  currentId: string | undefined,
): Promise<void> {
  const ownerHash = owner === undefined ? undefined : hashOf(owner);
  const ids = new Set(currentId === undefined ? [] : [currentId]);
  if (ownerHash) for (const id of await deps.owners.list(ownerHash)) ids.add(id);
  for (const id of ids) await deleteVerification(deps, id);
  if (ownerHash) await deps.owners.remove(ownerHash);
}
