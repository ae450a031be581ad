// Polling the verification's state: one poll in flight, transient failures retried with backoff,
// a generation number that makes a stopped poller's late answers no-ops. With the state's ETag the
// poll says `Prefer: wait`: a server that holds it answers the moment the state changes (200) or
// when the wait ends (304), and says Preference-Applied; then the next poll goes out at once.
// Without Preference-Applied the page waits Retry-After between polls, as with any server.
import { POLL_MAX_S, isObject, retryAfterSeconds } from './values.js';

const MAX_POLL_FAILURES = 5;
/** Seconds the server may hold a poll (it caps this at POLL_MAX_WAIT_S). */
const POLL_WAIT_S = 25;
const LOST_POLL_RETRIES = 6;

/**
 * `call(headers)` makes one poll (api.js); `onAnswer(body)` applies a state and says whether to
 * keep polling; `isActive()` whether a verification is under way; `onRetrying()` is told of a
 * transient failure; `onFailed(err)` of a final one.
 */
export function createPoller({ call, onAnswer, isActive, onRetrying, onFailed }) {
  let gen = 0;
  let timer = null;
  let failures = 0;
  let etag = null;
  let lostPolls = 0;

  function stop() {
    gen += 1;
    clearTimeout(timer);
    timer = null;
  }

  function start(delaySeconds = 0) {
    stop();
    const mine = gen;
    failures = 0;
    timer = setTimeout(() => once(mine), delaySeconds * 1000);
  }

  function schedule(mine, seconds) {
    if (mine !== gen) return;
    timer = setTimeout(() => once(mine), seconds * 1000);
  }

  async function once(mine) {
    if (mine !== gen) return;
    timer = null;
    const sentEtag = etag;
    let res;
    try {
      res = await call(sentEtag ? { Prefer: `wait=${POLL_WAIT_S}`, 'If-None-Match': sentEtag } : {});
    } catch (err) {
      if (mine !== gen) return;
      const transient =
        err.httpStatus === 0 || err.httpStatus === 429 || (err.httpStatus >= 502 && err.httpStatus <= 504);
      failures += 1;
      if (transient && failures <= MAX_POLL_FAILURES) {
        onRetrying();
        schedule(mine, err.retryAfter || Math.min(POLL_MAX_S, 2 ** failures));
        return;
      }
      onFailed(err);
      return;
    }
    if (mine !== gen) return;
    failures = 0;
    const held = res.headers.has('Preference-Applied');
    if (res.httpStatus === 304) {
      schedule(mine, held ? 0 : retryAfterSeconds(res.headers));
      return;
    }
    const newEtag = res.headers.get('ETag');
    // A new state: ask again at once, now with its ETag (unless the server ignored the one sent).
    const changed = !!newEtag && newEtag !== sentEtag;
    etag = newEtag || null;
    const body = isObject(res.data) ? res.data : {};
    // The callback renews the session cookie just after it records the outcome: a poll sent in
    // between carries the old cookie and finds nothing. Ask again shortly before believing it.
    if (body.status === 'none' && isActive() && lostPolls < LOST_POLL_RETRIES) {
      lostPolls += 1;
      schedule(mine, 0.5);
      return;
    }
    lostPolls = 0;
    if (onAnswer(body)) schedule(mine, held || changed ? 0 : retryAfterSeconds(res.headers));
  }

  return { start, stop };
}
