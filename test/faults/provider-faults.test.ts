import { startTestServer, useSharedServer } from '../support/harness';
import { Applicant } from '../support/applicant';

const shared = useSharedServer({ env: { FINX_REQUEST_TIMEOUT_MS: '300' } });
afterEach(() => {
  shared.sandbox.configure({ latencyMs: 0 });
  shared.sandbox.script('link', []);
  shared.sandbox.script('token', []);
  shared.sandbox.resetStats();
});

const json = { 'Content-Type': 'application/json' };

describe('the provider is slow or down', () => {
  it('latency beyond the deadline: 504 provider_timeout, in time', async () => {
    shared.sandbox.configure({ latencyMs: 1500 });
    const started = Date.now();
    const res = await new Applicant(shared.server.url)
      .post('/api/verification')
      .set(json)
      .send({})
      .expect(504);
    expect(Date.now() - started).toBeLessThan(1200);
    expect(res.body.error).toMatchObject({ code: 'provider_timeout', requestId: expect.any(String) });
  });

  it('an outage answering 503: 503 provider_unavailable with Retry-After', async () => {
    shared.sandbox.script('link', [{ status: 503, retryAfterS: 7 }]);
    const res = await new Applicant(shared.server.url)
      .post('/api/verification')
      .set(json)
      .send({})
      .expect(503);
    expect(res.body.error.code).toBe('provider_unavailable');
    expect(res.headers['retry-after']).toBe('7');
  });

  it('a provider that refuses the request: 502 provider_error, its details stay in the log', async () => {
    shared.sandbox.script('link', [
      { status: 400, body: { error: { code: 1000, group: 'client', message: 'internal detail xyz' } } },
    ]);
    const res = await new Applicant(shared.server.url)
      .post('/api/verification')
      .set(json)
      .send({})
      .expect(502);
    expect(res.body.error.code).toBe('provider_error');
    expect(JSON.stringify(res.body)).not.toContain('internal detail xyz');
  });

  it('a code exchange that times out is reported as failed and never retried', async () => {
    const applicant = new Applicant(shared.server.url);
    const callback = await applicant.startAndApprove();
    shared.sandbox.script('token', [{ status: 0, delayMs: 800 }]);
    expect(await applicant.callback(callback)).toBe('/?verification=failed&reason=exchange_timeout');
    await new Promise((r) => setTimeout(r, 900));
    // The slow exchange did reach the provider once; nothing was sent again.
    expect(shared.sandbox.stats().codeExchanges + shared.sandbox.stats().codeExchangesRejected).toBe(1);
    const poll = await applicant.get('/api/verification').expect(200);
    expect(poll.body).toMatchObject({ status: 'failed', error: { code: 'exchange_timeout' } });
  });

  it('a provider that is not listening: 503 provider_unavailable', async () => {
    const down = await startTestServer({
      sandbox: shared.sandbox,
      env: { FINX_API_URL: 'http://127.0.0.1:1' },
    });
    try {
      const res = await new Applicant(down.url).post('/api/verification').set(json).send({}).expect(503);
      expect(res.body.error.code).toBe('provider_unavailable');
    } finally {
      await down.close();
    }
  });
});
