import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { HIGH_RATE_LIMITS, sleep, startTestSandbox } from '../support/harness';
import { startLenderServer, type LenderServer } from './integrator-support';
import { readinessDelayMs } from '../../src/jobs/verification-job';
import { Applicant } from '../support/applicant';

jest.setTimeout(60_000);

let sandbox: Sandbox;
const servers: LenderServer[] = [];
beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await sandbox.close();
});

const INTERVAL_MS = 200;
const DELAY_MS = 2000;

/** Upstream requests the readiness schedule allows within `windowMs` (worst case: jitter always low). */
function scheduleBound(windowMs: number): number {
  let at = 0;
  let attempts = 1;
  while (at <= windowMs) {
    at += readinessDelayMs(attempts, INTERVAL_MS, 0);
    attempts++;
  }
  return attempts;
}

async function pendingVerifications(instances: LenderServer[], count: number) {
  const made = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const server = instances[i % instances.length] as LenderServer;
      return (
        await server
          .lender()
          .post('/verifications', { reference: `batch-${i}` })
          .expect(201)
      ).body as {
        id: string;
        start_url: string;
      };
    }),
  );
  sandbox.resetStats();
  await Promise.all(
    made.map(async (m, i) => {
      // Start where the link points, come back on the other instance: as behind a load balancer.
      const applicant = new Applicant((instances[(i + 1) % instances.length] as LenderServer).url);
      const location = await applicant.callback(await applicant.startAndApprove(m.start_url));
      if (location !== '/?verification=completed') throw new Error('callback failed');
    }),
  );
  return made;
}

describe('report readiness is driven by jobs, not by browsers', () => {
  it('two instances, 50 verifications pending at once, nobody polling: every report fetched, upstream requests bounded by the schedule, not by instances', async () => {
    sandbox.configure({ reportDelayMs: DELAY_MS });
    const env = {
      ...HIGH_RATE_LIMITS,
      RATE_LIMIT_INTEGRATOR_PER_KEY_PER_MINUTE: '1000000',
      REPORT_POLL_INTERVAL_MS: String(INTERVAL_MS),
    };
    const a = await startLenderServer(sandbox, env);
    const b = await startLenderServer(sandbox, { ...env, PUBLIC_BASE_URL: a.url }, a.prefix);
    servers.push(a, b);
    const started = Date.now();
    const made = await pendingVerifications([a, b], 50);
    const deadline = Date.now() + 30_000;
    const statuses = new Map<string, string>();
    while (
      Date.now() < deadline &&
      [...statuses.values()].filter((s) => s === 'ready').length < made.length
    ) {
      for (const m of made) {
        if (statuses.get(m.id) === 'ready') continue;
        statuses.set(m.id, (await a.lender().get(`/verifications/${m.id}`).expect(200)).body.status);
      }
      await sleep(100);
    }
    const elapsed = Date.now() - started;
    expect([...statuses.values()].filter((s) => s === 'ready')).toHaveLength(50);
    const upstream = sandbox.stats().reportFetches;
    const perVerification = upstream.total / made.length;
    const bound = scheduleBound(DELAY_MS + 1000);
    process.stdout.write(
      `report jobs: 50 verifications on 2 instances ready in ${elapsed} ms; upstream ${upstream.total} (${perVerification.toFixed(1)} per verification, schedule bound ${bound}), ready ${upstream.ready}\n`,
    );
    expect(upstream.ready).toBe(50);
    expect(perVerification).toBeLessThanOrEqual(bound);
    // Each verification was fetched by one job, not once per instance.
    expect(upstream.total).toBeLessThanOrEqual(50 * bound);
  });
});
