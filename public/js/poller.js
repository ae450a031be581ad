// Polling the verification's state: one poll in flight, Retry-After between polls, transient
// failures retried with backoff. A generation number makes a stopped poller's late answers no-ops.
import { POLL_MAX_S, isObject, retryAfterSeconds } from './values.js';

const MAX_POLL_FAILURES = 5;

/**
 * `call()` makes one poll (api.js); `onAnswer(body)` applies a state and says whether to keep
 * polling; `onRetrying()` is told of a transient failure; `onFailed(err)` of a final one.
 */
export function createPoller({ call, onAnswer, onRetrying, onFailed }) {
  let gen = 0;
  let timer = null;
  let failures = 0;

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
    let res;
    try {
      res = await call();
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
    if (res.httpStatus === 304) {
      schedule(mine, retryAfterSeconds(res.headers));
      return;
    }
    if (onAnswer(isObject(res.data) ? res.data : {})) schedule(mine, retryAfterSeconds(res.headers));
  }

  return { start, stop };
}
