import request from 'supertest';
import crypto from 'node:crypto';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { startTestSandbox, startTestServer, type TestServer } from '../support/harness';
import { lenderWaitsFor, startLenderServer } from '../integrator/integrator-support';
import { Applicant } from '../support/applicant';

let sandbox: Sandbox;
let server: TestServer | undefined;

beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterEach(async () => {
  if (!server) return;
  await server.close();
  server = undefined;
});
afterAll(() => sandbox.close());

/** The value of one sample line (`name{labels} value`) in Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('GET /metrics', () => {
  it('counts background jobs by outcome, the queue depth and the integrator API by route and status', async () => {
    sandbox.configure({ reportDelayMs: 300 });
    try {
      const lender = await startLenderServer(sandbox);
      server = lender;
      const made = (await lender.lender().post('/verifications', { reference: 'metrics-1' }).expect(201))
        .body;
      await lender
        .lender()
        .get('/verifications/ver_' + 'A'.repeat(22))
        .expect(404);
      await new Applicant(lender.url).completeFlow(made.start_url);
      await lenderWaitsFor(lender, made.id, ['ready']);
      const text = (await request(lender.url).get('/metrics').expect(200)).text;
      expect(sample(text, 'bff_jobs_total', 'job="verification",outcome="retry"')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'bff_jobs_total', 'job="verification",outcome="done"')).toBeGreaterThanOrEqual(1);
      expect(
        sample(text, 'bff_integrator_requests_total', 'route="/integrator/v1/verifications",status="201"'),
      ).toBe(1);
      expect(
        sample(
          text,
          'bff_integrator_requests_total',
          'route="/integrator/v1/verifications/:id",status="404"',
        ),
      ).toBe(1);
      // The verification's deadline job waits in the delayed set; no job gave up.
      expect(sample(text, 'bff_job_queue_depth', 'state="delayed"')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'bff_job_queue_depth', 'state="failed"')).toBe(0);
      expect(text).toMatch(/^bff_job_queue_oldest_waiting_seconds \d/m);
    } finally {
      sandbox.configure({ reportDelayMs: 0 });
    }
  });

  it('a full flow, a cancel and a failure move the funnel counters as expected', async () => {
    server = await startTestServer({ sandbox });
    const applicant = new Applicant(server.url);
    await applicant.callback(await applicant.startAndApprove());
    await applicant.poll(['ready']);
    await applicant.callback(await applicant.decideInWidget(await applicant.start(), 'cancel'));
    await applicant.callback(await applicant.decideInWidget(await applicant.start(), 'fail'));
    await applicant.get('/api/verification').expect(200);

    const res = await applicant.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    const event = (e: string) => sample(text, 'bff_verification_events_total', `event="${e}"`);
    expect([
      event('started'),
      event('completed'),
      event('ready'),
      event('cancelled'),
      event('failed'),
      event('expired'),
    ]).toEqual([3, 1, 1, 1, 1, 0]);
    expect(sample(text, 'bff_provider_request_duration_seconds_count', 'endpoint="link",outcome="201"')).toBe(
      3,
    );
    expect(
      sample(text, 'bff_provider_request_duration_seconds_count', 'endpoint="token",outcome="200"'),
    ).toBe(1);
    expect(
      sample(text, 'bff_provider_request_duration_seconds_count', 'endpoint="report",outcome="200"'),
    ).toBe(1);
    expect(text).toContain('bff_process_resident_memory_bytes');
  });

  it('with METRICS_TOKEN set, answers only to the bearer token', async () => {
    server = await startTestServer({ sandbox, env: { METRICS_TOKEN: 'metrics-token-0123456789' } });
    const refused = await request(server.url).get('/metrics').expect(401);
    expect(refused.body.error.code).toBe('unauthorized');
    await request(server.url)
      .get('/metrics')
      .set('Authorization', 'Bearer wrong-token-0123456789')
      .expect(401);
    await request(server.url)
      .get('/metrics')
      .set('Authorization', 'Bearer metrics-token-0123456789')
      .expect(200);
  });

  it('compares the token in constant time over equal-length digests, whatever length is sent (B15)', async () => {
    server = await startTestServer({ sandbox, env: { METRICS_TOKEN: 'metrics-token-0123456789' } });
    const compared: number[][] = [];
    const spy = jest.spyOn(crypto, 'timingSafeEqual').mockImplementation((a, b) => {
      compared.push([a.byteLength, b.byteLength]);
      return Buffer.compare(Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array)) === 0;
    });
    try {
      for (const given of ['', 'Bearer x', `Bearer ${'y'.repeat(500)}`, 'Bearer metrics-token-0123456789']) {
        await request(server.url).get('/metrics').set('Authorization', given);
      }
    } finally {
      spy.mockRestore();
    }
    expect(compared).toEqual([
      [32, 32],
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
  });

  it('in production without a token, /metrics is not served', async () => {
    server = await startTestServer({
      sandbox,
      env: {
        NODE_ENV: 'production',
        PUBLIC_BASE_URL: 'https://bff.example',
        FINX_API_URL: sandbox.url.replace('http:', 'https:'),
      },
    });
    await request(server.url).get('/metrics').expect(404);
  });
});
