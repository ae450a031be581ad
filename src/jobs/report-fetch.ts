import type { ProviderClient } from '../provider/provider-client';
import { ProviderError } from '../provider/provider-errors';
import type { TokenService } from '../tokens/token-service';

/**
 * One report request with the verification's access token: on a 401 the token is refreshed once
 * and the request tried once more, no more. Used by the readiness job and the report refresh.
 */
export async function fetchReportWithToken(
  deps: { tokens: TokenService; provider: ProviderClient },
  verificationId: string,
  flowId: string,
): ReturnType<ProviderClient['getIncomeReport']> {
  let token = await deps.tokens.accessToken(verificationId);
  return deps.provider.getIncomeReport(flowId, token).catch(async (err: unknown) => {
    if (!(err instanceof ProviderError) || err.failure !== 'unauthorized') throw err;
    token = await deps.tokens.accessToken(verificationId, token);
    return deps.provider.getIncomeReport(flowId, token);
  });
}
