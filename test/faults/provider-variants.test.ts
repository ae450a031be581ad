import request from 'supertest';
import { defaultSandboxOptions } from '../../src/sandbox/sandbox-server';
import { inspectRedis, startTestServer, type TestServer, useSharedServer } from '../support/harness';
import { Applicant } from '../support/applicant';

/**
 * What the real provider may do differently from the sandbox's defaults (docs/finx-api.md), each switched
 * on as a sandbox variant and driven over real HTTP: the server must complete the flow in every mode.
 */

const shared = useSharedServer();
afterEach(() => {
  shared.sandbox.configure({
    variants: defaultSandboxOptions.variants,
    accessTokenTtlS: defaultSandboxOptions.accessTokenTtlS,
    reportDelayMs: 0,
  });
  shared.sandbox.resetStats();
});

const json = { 'Content-Type': 'application/json' };

/** The iframe mode: the widget's completion page and the message it posts to the parent. */
async function decideEmbedded(
  widgetLocation: string,
  decision: 'approve' | 'cancel',
): Promise<{ query: Record<string, unknown> } & Record<string, unknown>> {
  const widget = new URL(widgetLocation);
  const res = await fetch(new URL('/widget/complete', widget.origin), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: widget.searchParams.get('token') ?? '', decision, embedded: '1' }),
  });
  const html = await res.text();
  const data = /<script type="application\/json" id="callback-data">([^<]*)<\/script>/.exec(html)?.[1];
  if (!data) throw new Error(`no callback message in the widget page (${res.status})`);
  return JSON.parse(data) as { query: Record<string, unknown> };
}

/** Starts in iframe mode (POST), decides in the embedded widget, forwards the message's query as the page does. */
async function iframeFlow(target: TestServer, decision: 'approve' | 'cancel') {
  const applicant = new Applicant(target.url);
  const created = await applicant.post('/api/verification').set(json).send({}).expect(201);
  const message = await decideEmbedded(created.body.location as string, decision);
  const answer = await applicant.post('/api/verification/callback').set(json).send(message.query);
  return { applicant, message, answer };
}

async function redirectFlow(target: TestServer, decision: 'approve' | 'cancel') {
  const applicant = new Applicant(target.url);
  const callback = await applicant.decideInWidget(await applicant.start(), decision);
  return { applicant, callback, back: await applicant.callback(callback) };
}

describe('token answers without expires_in (A1)', () => {
  it('a code exchange answered without expires_in completes, and the report arrives', async () => {
    shared.sandbox.configure({ variants: { tokenExpiresIn: 'absent' } });
    const { applicant, back } = await redirectFlow(shared.server, 'approve');
    expect(back).toBe('/?verification=completed');
    expect((await applicant.poll(['ready', 'failed', 'expired'])).body.status).toBe('ready');
  });

  it('expires_in as a numeric string is read as seconds', async () => {
    shared.sandbox.configure({ variants: { tokenExpiresIn: 'string' } });
    const { applicant, back } = await redirectFlow(shared.server, 'approve');
    expect(back).toBe('/?verification=completed');
    expect((await applicant.poll(['ready', 'failed', 'expired'])).body.status).toBe('ready');
  });

  it('a token that dies before the assumed lifetime: the report 401 refreshes once (no expires_in there either) and retries', async () => {
    shared.sandbox.configure({
      variants: { tokenExpiresIn: 'absent' },
      accessTokenTtlS: 1,
      reportDelayMs: 1500,
    });
    const { applicant, back } = await redirectFlow(shared.server, 'approve');
    expect(back).toBe('/?verification=completed');
    expect((await applicant.poll(['ready', 'failed', 'expired'])).body.status).toBe('ready');
    const stats = shared.sandbox.stats();
    expect(stats.reportFetches.unauthorized).toBe(1);
    expect(stats.refreshes).toBe(1);
    expect(stats.refreshesRejected).toBe(0);
  });
});

describe('4,096-character codes (A2)', () => {
  beforeEach(() => shared.sandbox.configure({ variants: { codeLength: 4096 } }));

  it('complete in redirect mode (GET /callback)', async () => {
    const { applicant, callback, back } = await redirectFlow(shared.server, 'approve');
    expect(callback.code).toHaveLength(4096);
    expect(back).toBe('/?verification=completed');
    expect((await applicant.poll(['ready', 'failed'])).body.status).toBe('ready');
  });

  it('complete in iframe mode (POST /api/verification/callback)', async () => {
    const { applicant, message, answer } = await iframeFlow(shared.server, 'approve');
    expect(message.query.code).toHaveLength(4096);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'processing', error: null });
    expect((await applicant.poll(['ready', 'failed'])).body.status).toBe('ready');
  });
});

describe('abort, the newer name of cancel (A3)', () => {
  beforeEach(() => shared.sandbox.configure({ variants: { cancelFlag: 'abort' } }));

  it('abort=true in redirect mode means cancelled', async () => {
    const { applicant, callback, back } = await redirectFlow(shared.server, 'cancel');
    expect(new URL(callback.url).searchParams.get('abort')).toBe('true');
    expect(back).toBe('/?verification=cancelled');
    expect((await applicant.get('/api/verification').expect(200)).body.status).toBe('cancelled');
  });

  it('abort: "true" in iframe mode means cancelled', async () => {
    const { message, answer } = await iframeFlow(shared.server, 'cancel');
    expect(message.query).toMatchObject({ abort: 'true', success: 'false' });
    expect(answer.body).toEqual({ status: 'cancelled', error: null });
  });
});

describe('the newer postMessage shape { link, query } with JSON booleans (A4)', () => {
  beforeEach(() => shared.sandbox.configure({ variants: { messageShape: 'link' } }));

  it('forwarded as is, an approval completes', async () => {
    const { applicant, message, answer } = await iframeFlow(shared.server, 'approve');
    expect(message).toEqual({
      link: expect.any(String),
      query: expect.objectContaining({ success: true, abort: false }),
    });
    expect(answer.body).toEqual({ status: 'processing', error: null });
    expect((await applicant.poll(['ready', 'failed'])).body.status).toBe('ready');
  });

  it('forwarded as is, a cancellation (abort: true) is cancelled', async () => {
    const { message, answer } = await iframeFlow(shared.server, 'cancel');
    expect(message.query).toMatchObject({ success: false, abort: true });
    expect(answer.body).toEqual({ status: 'cancelled', error: null });
  });

  it('a key the provider does not document is refused and not echoed', async () => {
    const applicant = new Applicant(shared.server.url);
    const created = await applicant.post('/api/verification').set(json).send({}).expect(201);
    const message = await decideEmbedded(created.body.location as string, 'approve');
    const answer = await applicant
      .post('/api/verification/callback')
      .set(json)
      .send({ ...message.query, undocumented_marker_key: 'x' })
      .expect(400);
    expect(answer.body.error.code).toBe('invalid_callback');
    expect(answer.text).not.toContain('undocumented_marker_key');
  });
});

describe('a widget served from another of the provider hosts (A5)', () => {
  let twoHosts: TestServer;
  beforeAll(async () => {
    const port = new URL(shared.sandbox.url).port;
    twoHosts = await startTestServer({
      sandbox: shared.sandbox,
      env: { WIDGET_ALLOWED_ORIGINS: `${shared.sandbox.url},http://localhost:${port}` },
    });
  });
  afterAll(() => twoHosts.close());

  it("the start answer names the flow's widget origin first, then the allow-list, and stores it", async () => {
    shared.sandbox.configure({ variants: { widgetHost: 'localhost' } });
    const localhost = `http://localhost:${new URL(shared.sandbox.url).port}`;
    const applicant = new Applicant(twoHosts.url);
    const created = await applicant.post('/api/verification').set(json).send({}).expect(201);
    expect(new URL(created.body.location as string).origin).toBe(localhost);
    expect(created.body.widgetOrigins).toEqual([localhost, shared.sandbox.url]);

    const redis = await inspectRedis();
    const metas = (await redis.keysUnder(twoHosts.prefix)).filter((k) => k.endsWith(':meta'));
    const stored = await Promise.all(metas.map(async (k) => JSON.parse((await redis.get(k)) as string)));
    await redis.close();
    expect(stored.map((m: { widgetOrigin?: string }) => m.widgetOrigin)).toContain(localhost);

    const { answer } = await (async () => {
      const message = await decideEmbedded(created.body.location as string, 'approve');
      return { answer: await applicant.post('/api/verification/callback').set(json).send(message.query) };
    })();
    expect(answer.body.status).toBe('processing');
  });
});

describe('a report path the provider does not serve (A6)', () => {
  it('ends flows with report_path_misconfigured, logs one error naming FINX_REPORT_PATH and counts it', async () => {
    const wrongPath = await startTestServer({ sandbox: shared.sandbox, env: { REPORT_PATH_ALERT_S: '1' } });
    try {
      shared.sandbox.configure({ variants: { reportPath: 'query' } });
      const first = await redirectFlow(wrongPath, 'approve');
      const second = await redirectFlow(wrongPath, 'approve');
      for (const { applicant, back } of [first, second]) {
        expect(back).toBe('/?verification=completed');
        const end = await applicant.poll(['ready', 'failed', 'expired'], 15_000);
        expect(end.body).toMatchObject({ status: 'failed', error: { code: 'report_path_misconfigured' } });
      }
      const errors = wrongPath.logs.lines.filter((l) => l.includes('FINX_REPORT_PATH'));
      expect(errors).toHaveLength(1);
      expect(JSON.parse(errors[0] as string)).toMatchObject({
        level: 50,
        setting: 'FINX_REPORT_PATH',
        reportPath: '/rest/income-reports/{id}',
      });
      const metrics = await request(wrongPath.url).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/^bff_report_path_misconfigured_total 1$/m);
    } finally {
      await wrongPath.close();
    }
  });

  it('with FINX_REPORT_PATH set to the query form the provider serves, the report arrives', async () => {
    const queryPath = await startTestServer({
      sandbox: shared.sandbox,
      env: { FINX_REPORT_PATH: '/rest/income-report?id={id}', REPORT_PATH_ALERT_S: '1' },
    });
    try {
      shared.sandbox.configure({ variants: { reportPath: 'query' } });
      const { applicant, back } = await redirectFlow(queryPath, 'approve');
      expect(back).toBe('/?verification=completed');
      expect((await applicant.poll(['ready', 'failed'])).body.status).toBe('ready');
    } finally {
      await queryPath.close();
    }
  });
});
