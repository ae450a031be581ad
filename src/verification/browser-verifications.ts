import { completeCallback, type CallbackOutcome, type CallbackParams } from './complete-callback';
import { deleteBrowserVerifications } from './delete-verification';
import { startVerification, type StartInput, type StartResult } from './start-verification';
import type { VerificationDeps } from './verification-deps';

/** What a browser can do with verifications, with their collaborators bound: what the HTTP routes get. */
export interface BrowserVerifications {
  start(input: StartInput): Promise<StartResult>;
  /** The widget came back: see completeCallback. */
  completeCallback(owner: string | undefined, params: CallbackParams): Promise<CallbackOutcome>;
  /** Forgets every verification the browser (its owner, its current id) started. */
  forget(owner: string | undefined, currentId: string | undefined): Promise<void>;
}

export function browserVerifications(deps: VerificationDeps): BrowserVerifications {
  return {
    start: (input) => startVerification(deps, input),
    completeCallback: (owner, params) => completeCallback(deps, owner, params),
    forget: (owner, currentId) => deleteBrowserVerifications(deps, owner, currentId),
  };
}
