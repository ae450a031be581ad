import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { Applicant } from './applicant';

export interface ConcurrentPollResult {
  polls: number;
  statuses: Record<string, number>;
  finalStatus: string;
  errors: number;
  elapsedMs: number;
  refreshes: number;
  refreshesRejected: number;
  reportFetches: number;
}

/**
 * Starts a flow on the first instance, completes the callback on the second, then has `pollers`
 * concurrent pollers spread over all instances poll with the one session cookie until the report is
 * ready (or the timeout passes).
 */
export async function concurrentPollsAcrossInstances(
  instances: string[],
  sandbox: Sandbox,
  pollers = 50,
  timeoutMs = 20_000,
): Promise<ConcurrentPollResult> {
  const [first, second = first] = instances as [string, string?];
  const applicant = new Applicant(first);
  const back = await applicant.startAndApprove();
  const location = await applicant.at(second).callback(back);
  if (location !== '/?verification=completed') throw new Error(`callback went to ${location}`);

  const before = sandbox.stats();
  const statuses: Record<string, number> = {};
  let polls = 0;
  let errors = 0;
  let finalStatus = 'processing';
  const started = Date.now();
  const deadline = started + timeoutMs;
  const poller = async (i: number) => {
    const base = instances[i % instances.length] as string;
    while (finalStatus === 'processing' && Date.now() < deadline) {
      // fetch, not the applicant's own requests: 50 pollers on kept-alive connections, every answer counted.
      const res = await fetch(`${base}/api/verification`, { headers: { cookie: applicant.cookie ?? '' } });
      polls++;
      if (res.status !== 200) {
        errors++;
        statuses[`http_${res.status}`] = (statuses[`http_${res.status}`] ?? 0) + 1;
      } else {
        const body = (await res.json()) as { status: string };
        statuses[body.status] = (statuses[body.status] ?? 0) + 1;
        if (body.status !== 'processing') finalStatus = body.status;
      }
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  };
  await Promise.all(Array.from({ length: pollers }, (_, i) => poller(i)));
  const after = sandbox.stats();
  return {
    polls,
    statuses,
    finalStatus,
    errors,
    elapsedMs: Date.now() - started,
    refreshes: after.refreshes - before.refreshes,
    refreshesRejected: after.refreshesRejected - before.refreshesRejected,
    reportFetches: after.reportFetches.total - before.reportFetches.total,
  };
}
