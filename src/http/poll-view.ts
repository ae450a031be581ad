import { createHash } from 'node:crypto';
import type { VerificationReader, VerificationState } from '../verification/read-verification';

/** The poll's answer for one state: the JSON body, its strong ETag, the Retry-After header text. */
export interface PollView {
  /** UTF-8 encoded once per state: an answer writes these bytes, it does not encode again. */
  body: Buffer;
  etag: string;
  /** Retry-After as header text; only while the outcome is open. */
  retryAfterHeader: string | undefined;
}

/** The reader's states as poll answers; `viewOf` is the answer to a state a change message carries. */
export interface PollViews {
  read(verificationId: string | undefined, owner?: string): Promise<PollView>;
  viewOf(verificationId: string, raw: string | null): Promise<PollView>;
}

/**
 * Builds each state's body and ETag once: the reader hands out the same object for the same state
 * (see VerificationState), so the views are kept beside it and polls between two changes hash nothing.
 */
export function createPollViews(reader: VerificationReader): PollViews {
  const views = new WeakMap<VerificationState, PollView>();
  const viewOf = (state: VerificationState): PollView => {
    let view = views.get(state);
    if (view === undefined) {
      view = buildPollView(state);
      views.set(state, view);
    }
    return view;
  };
  return {
    read: (id, owner) => reader.read(id, owner).then(viewOf),
    viewOf: (id, raw) => reader.stateOf(id, raw).then(viewOf),
  };
}

/** `{ "status", "report", "error" }`, the report spliced in as stored (it is JSON text already). */
function buildPollView(state: VerificationState): PollView {
  const { status, report, error } = state;
  const body = Buffer.from(
    `{"status":"${status}","report":${report ?? 'null'},"error":${error ? JSON.stringify({ code: error.code, message: error.message }) : 'null'}}`,
  );
  return {
    body,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`,
    retryAfterHeader: state.retryAfterS === undefined ? undefined : String(state.retryAfterS),
  };
}
