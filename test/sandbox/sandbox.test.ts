import { simulateMonths } from '../../src/sandbox/income-report';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import {
  basic,
  CLIENT,
  inlineScripts,
  REDIRECT_URI,
  sandboxClient,
  sleep,
  startTestSandbox,
  type SandboxClient,
} from './sandbox-test-client';

let sandbox: Sandbox;
let api: SandboxClient;

beforeEach(async () => {
  sandbox = await startTestSandbox();
  api = sandboxClient(sandbox);
});

afterEach(async () => {
  await sandbox.close();
});

const cents = (euros: number): number => Math.round(euros * 100);
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

describe('POST /onetime/income-report', () => {
  it('refuses missing, wrong and malformed client credentials with 401, WWW-Authenticate and code 1004', async () => {
    const body = { redirect_uri: REDIRECT_URI };
    for (const authorization of [
      null,
      basic(CLIENT.clientId, 'wrong'),
      basic('other', CLIENT.clientSecret),
      'Basic !!!',
      `Bearer x`,
    ]) {
      const res = await api.postJson('/onetime/income-report', body, authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="finx"');
      expect(res.body.error).toMatchObject({ code: 1004, group: 'client' });
    }
    expect(sandbox.stats()).toMatchObject({ linksCreated: 0, linksRejected: 5 });
  });

  it.each([
    ['a missing redirect_uri', { state: 's' }, 'redirect_uri'],
    ['a relative redirect_uri', { redirect_uri: '/callback' }, 'redirect_uri'],
    ['a non-http redirect_uri', { redirect_uri: 'javascript:alert(1)' }, 'redirect_uri'],
    ['reporting_period 3', { redirect_uri: REDIRECT_URI, reporting_period: 3 }, 'reporting_period'],
    [
      'a fractional reporting_period',
      { redirect_uri: REDIRECT_URI, reporting_period: 6.5 },
      'reporting_period',
    ],
    ['both periods', { redirect_uri: REDIRECT_URI, reporting_period: 12, sync_period: 90 }, 'sync_period'],
    ['an unsupported language', { redirect_uri: REDIRECT_URI, language: 'it' }, 'language'],
    ['an unknown field', { redirect_uri: REDIRECT_URI, colour: 'blue' }, ''],
    ['a state over 512 characters', { redirect_uri: REDIRECT_URI, state: 'x'.repeat(513) }, 'state'],
    ['accounts without id', { redirect_uri: REDIRECT_URI, accounts: [{ iban: 'DE89' }] }, 'accounts.0'],
    [
      'a non-boolean allow_multi_selection',
      { redirect_uri: REDIRECT_URI, allow_multi_selection: 'no' },
      'allow_multi_selection',
    ],
  ])('answers 400 code 1000 for %s', async (_name, body, path) => {
    const res = await api.postJson('/onetime/income-report', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 1000, group: 'client' });
    expect(res.body.error.data.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(sandbox.stats()).toMatchObject({ linksCreated: 0, linksRejected: 1 });
  });

  it('answers 400 code 1000 for a body that is not JSON', async () => {
    const res = await fetch(api.url('/onetime/income-report'), {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/json' },
      body: '{"redirect_uri":',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(1000);
    expect(sandbox.stats().linksRejected).toBe(1);
  });

  it('creates a link: 201 with a widget location on the sandbox and a uuid v4 flow id', async () => {
    const res = await api.postJson('/onetime/income-report', {
      redirect_uri: REDIRECT_URI,
      state: 'abc',
      language: 'en',
      reporting_period: 6,
      accounts: [{ id: 'DE89370400440532013000' }],
      account_types: ['Giro account'],
      allow_multi_selection: false,
      provider_id: 'sandbox-bank',
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['id', 'location']);
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const location = new URL(res.body.location);
    expect(location.origin + location.pathname).toBe(`${sandbox.url}/widget`);
    expect(location.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(sandbox.stats()).toMatchObject({ linksCreated: 1, linksRejected: 0 });
  });
});

describe('GET /widget', () => {
  it('shows the widget with the prefilled IBAN, three decision buttons and a framing policy, without inline script', async () => {
    const link = await api.createLink({
      state: '"><script>alert(1)</script>',
      language: 'en',
      accounts: [{ id: 'DE89370400440532013000' }, { id: '<b>x</b>' }],
    });
    const res = await api.get(new URL(link.location).pathname + new URL(link.location).search);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain('frame-ancestors http://localhost:* http://127.0.0.1:*');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(html).toContain('<h1>finX sandbox</h1>');
    expect(html).toContain('DE89 3704 0044 0532 0130 00');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('<script src="/widget.js" defer></script>');
    expect(inlineScripts(html)).toEqual([]);
    for (const [id, label] of [
      ['approve', 'Approve'],
      ['cancel', 'Cancel'],
      ['fail', 'Fail'],
    ]) {
      expect(html).toContain(`<button type="submit" id="${id}">${label}</button>`);
      expect(html).toContain(`<input type="hidden" name="decision" value="${id}">`);
    }
  });

  it('uses the configured frame ancestors', async () => {
    sandbox.configure({ frameAncestors: ['https://app.example.com'] });
    const link = await api.createLink();
    const res = await fetch(link.location);
    expect(res.headers.get('content-security-policy')).toContain('frame-ancestors https://app.example.com');
  });

  it('answers an unknown token with a 404 page that says so', async () => {
    const res = await api.get('/widget?token=nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('unknown, expired or already used');
  });

  it('serves its scripts as JavaScript files', async () => {
    for (const path of ['/widget.js', '/widget-embedded.js']) {
      const res = await api.get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    }
    expect(await (await api.get('/widget.js')).text()).toContain("input.name = 'embedded'");
    expect(await (await api.get('/widget-embedded.js')).text()).toContain('window.parent.postMessage(data');
  });
});

describe('POST /widget/complete', () => {
  function callbackOf(res: Response): URL {
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location') ?? '');
  }

  it('approve: redirects to redirect_uri with state, success=true, code and flow_id, keeping its own query', async () => {
    const link = await api.createLink({ state: 'state with spaces & symbols' });
    const callback = callbackOf(await api.complete(link.location, 'approve'));
    expect(callback.origin + callback.pathname).toBe('http://localhost:3000/callback');
    const query = Object.fromEntries(callback.searchParams);
    expect(Object.keys(query).sort()).toEqual(['code', 'flow_id', 'keep', 'state', 'success']);
    expect(query).toMatchObject({
      keep: '1',
      state: 'state with spaces & symbols',
      success: 'true',
      flow_id: link.id,
    });
    expect(query.code).toMatch(/^[A-Za-z0-9_-]{48}$/);
  });

  it('cancel: redirects with state, success=false, cancel=true and flow_id, and no code', async () => {
    const link = await api.createLink();
    const query = Object.fromEntries(callbackOf(await api.complete(link.location, 'cancel')).searchParams);
    expect(query).toEqual({ keep: '1', state: 'st-1', success: 'false', cancel: 'true', flow_id: link.id });
  });

  it('fail: redirects with state, success=false and flow_id, and neither cancel nor code', async () => {
    const link = await api.createLink();
    const query = Object.fromEntries(callbackOf(await api.complete(link.location, 'fail')).searchParams);
    expect(query).toEqual({ keep: '1', state: 'st-1', success: 'false', flow_id: link.id });
  });

  it('completes a link once: the second submission gets the 404 page', async () => {
    const link = await api.createLink();
    callbackOf(await api.complete(link.location, 'approve'));
    const again = await api.complete(link.location, 'approve');
    expect(again.status).toBe(404);
    expect(await again.text()).toContain('already used');
    expect((await fetch(link.location)).status).toBe(404);
  });

  it('refuses an unknown decision without using up the link', async () => {
    const link = await api.createLink();
    expect((await api.complete(link.location, 'maybe')).status).toBe(400);
    callbackOf(await api.complete(link.location, 'approve'));
  });

  it('embedded: answers a page whose JSON block carries location, query and url, with no inline script', async () => {
    const link = await api.createLink({ state: '</script><script>alert(1)</script>' });
    const res = await api.complete(link.location, 'approve', { embedded: '1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain('frame-ancestors');
    const html = await res.text();
    expect(html).toContain('<script src="/widget-embedded.js" defer></script>');
    expect(html).toContain('You can close this');
    expect(inlineScripts(html)).toEqual([]);
    const block = /<script type="application\/json" id="callback-data">([\s\S]*?)<\/script>/.exec(html);
    expect(block?.[1]).toBeDefined();
    expect(block?.[1]).not.toContain('<');
    const data = JSON.parse(block?.[1] ?? '') as {
      location: string;
      query: Record<string, string>;
      url: string;
    };
    expect(data.url).toBe('http://localhost:3000/callback');
    expect(data.query).toMatchObject({
      keep: '1',
      state: '</script><script>alert(1)</script>',
      success: 'true',
      flow_id: link.id,
    });
    expect(Object.fromEntries(new URL(data.location).searchParams)).toEqual(data.query);
    expect((await api.exchange(data.query.code ?? '')).status).toBe(200);
  });
});

describe('POST /auth/token', () => {
  it('exchanges a code for a bearer token pair with varying opaque tokens', async () => {
    const { code } = await api.approvedFlow();
    const res = await api.exchange(code);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^[A-Za-z0-9_-]{40,200}$/),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{40,200}$/),
      scope: 'accounts=ro balances=ro transactions=ro offline',
    });
    expect(sandbox.stats()).toMatchObject({ codeExchanges: 1, codeExchangesRejected: 0 });
  });

  it('refuses wrong client credentials with 401 and counts the rejected exchange', async () => {
    const { code } = await api.approvedFlow();
    const res = await api.postJson(
      '/auth/token',
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      basic(CLIENT.clientId, 'nope'),
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="finx"');
    expect(res.body.error.code).toBe(1004);
    expect(sandbox.stats().codeExchangesRejected).toBe(1);
  });

  it('accepts a code once, even for two concurrent exchanges', async () => {
    const { code } = await api.approvedFlow();
    const answers = await Promise.all([api.exchange(code), api.exchange(code)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    const refused = answers.find((a) => a.status === 400);
    expect(refused?.body.error).toMatchObject({ code: 1000, group: 'client', message: 'invalid_grant' });
    expect(sandbox.stats()).toMatchObject({ codeExchanges: 1, codeExchangesRejected: 1 });
  });

  it('refuses a redirect_uri other than the link’s, and the code is burnt', async () => {
    const { code } = await api.approvedFlow();
    const wrong = await api.exchange(code, 'http://localhost:3000/callback');
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toBe('invalid_grant');
    expect((await api.exchange(code)).status).toBe(400);
  });

  it('refuses an expired code', async () => {
    sandbox.configure({ codeTtlS: 1 });
    const { code } = await api.approvedFlow();
    await sleep(1100);
    const res = await api.exchange(code);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('invalid_grant');
  });

  it('rotates on refresh: new pair, and the old refresh and access tokens are dead', async () => {
    const flow = await api.connectedFlow();
    const refreshed = await api.refresh(flow.refreshToken);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(flow.accessToken);
    expect(refreshed.body.refresh_token).not.toBe(flow.refreshToken);

    const reused = await api.refresh(flow.refreshToken);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toMatchObject({ code: 1000, message: 'invalid_grant' });
    expect((await api.getReport(flow.flowId, flow.accessToken)).status).toBe(401);
    expect((await api.getReport(flow.flowId, refreshed.body.access_token)).status).toBe(200);
    expect((await api.refresh(refreshed.body.refresh_token)).status).toBe(200);
    expect(sandbox.stats()).toMatchObject({ refreshes: 2, refreshesRejected: 1 });
  });

  it('answers 400 for an unknown grant type or missing fields', async () => {
    expect((await api.postJson('/auth/token', { grant_type: 'password' })).status).toBe(400);
    expect((await api.postJson('/auth/token', { grant_type: 'authorization_code' })).status).toBe(400);
    expect((await api.postJson('/auth/token', { grant_type: 'refresh_token' })).status).toBe(400);
    expect(sandbox.stats()).toMatchObject({ codeExchangesRejected: 1, refreshesRejected: 1 });
  });
});

describe('GET /rest/income-reports/:id', () => {
  it('answers 404 code 1002 until reportDelayMs after the exchange, then the report', async () => {
    sandbox.configure({ reportDelayMs: 400 });
    const flow = await api.connectedFlow();
    const early = await api.getReport(flow.flowId, flow.accessToken);
    expect(early.status).toBe(404);
    expect(early.body.error).toMatchObject({ code: 1002, group: 'client' });
    await sleep(450);
    const ready = await api.getReport(flow.flowId, flow.accessToken);
    expect(ready.status).toBe(200);
    expect(sandbox.stats().reportFetches).toEqual({
      ready: 1,
      notReady: 1,
      unauthorized: 0,
      failed: 0,
      total: 2,
    });
  });

  it('answers a report in the documented shape whose figures add up', async () => {
    const flow = await api.connectedFlow({ reporting_period: 12 });
    const { body: report, status } = await api.getReport(flow.flowId, flow.accessToken);
    expect(status).toBe(200);
    expect(report.period).toBe(12);

    const sim = simulateMonths(flow.flowId, 12);
    const salaries = sim.salary.monthlyCents;
    expect(report.income.summary).toEqual({
      total: sum(salaries) / 100,
      low: Math.min(...salaries) / 100,
      high: Math.max(...salaries) / 100,
      average: Math.round(sum(salaries) / 12) / 100,
      count: 12,
    });
    expect(report.income.primary).toMatchObject({
      category: { id: 2, name: 'Salary' },
      payment_partner: sim.employer,
    });
    expect(report.income.streams[0].first_booked_on).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const totalOf = (groups: { summary: { total: number } }[]): number =>
      sum(groups.map((g) => cents(g.summary.total)));
    expect(report.regular_expenses.length).toBeGreaterThan(0);
    expect(report.variable_expenses.length).toBeGreaterThan(0);
    for (const group of [...report.regular_expenses, ...report.variable_expenses]) {
      expect(Object.keys(group.summary).sort()).toEqual(['average', 'count', 'high', 'low', 'total']);
      expect(group.streams.length).toBeGreaterThan(0);
    }
    const income = cents(report.income.summary.total);
    const disposable = income - totalOf(report.regular_expenses);
    const discretionary = disposable - totalOf(report.variable_expenses);
    expect(cents(report.disposable_income.total)).toBe(disposable);
    expect(cents(report.discretionary_income.total)).toBe(discretionary);
    expect(cents(report.disposable_income.average)).toBe(Math.round(disposable / 12));
    expect(report.disposable_income.ratio).toBe(Math.round((disposable / income) * 100) / 100);
    expect(report.discretionary_income.ratio).toBe(Math.round((discretionary / income) * 100) / 100);
    expect(report.disposable_income.low).toBeLessThanOrEqual(report.disposable_income.average);
    expect(report.disposable_income.high).toBeGreaterThanOrEqual(report.disposable_income.average);
  });

  it('uses the link’s reporting period', async () => {
    const flow = await api.connectedFlow({ reporting_period: 6 });
    const { body } = await api.getReport(flow.flowId, flow.accessToken);
    expect(body.period).toBe(6);
    expect(body.income.summary.count).toBe(6);
  });

  it('answers 401 with Bearer invalid_token for a missing or unknown token', async () => {
    const flow = await api.connectedFlow();
    for (const token of [undefined, 'not-a-token']) {
      const res = await api.getReport(flow.flowId, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(res.body.error.code).toBe(1003);
    }
    expect(sandbox.stats().reportFetches).toMatchObject({ unauthorized: 2, total: 2 });
  });

  it('answers 401 once the access token has expired', async () => {
    sandbox.configure({ accessTokenTtlS: 1 });
    const flow = await api.connectedFlow();
    await sleep(1100);
    expect((await api.getReport(flow.flowId, flow.accessToken)).status).toBe(401);
  });

  it('answers 403 code 1007 for another flow’s token and 404 code 1002 for an unknown id', async () => {
    const mine = await api.connectedFlow();
    const other = await api.connectedFlow();
    const forbidden = await api.getReport(other.flowId, mine.accessToken);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe(1007);
    const unknown = await api.getReport('00000000-0000-4000-8000-000000000000', mine.accessToken);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe(1002);
    expect(sandbox.stats().reportFetches).toMatchObject({ failed: 2, total: 2 });
  });

  it('ongoing access: a refresh token dies unused after refreshTokenTtlS, a refresh starts the clock again, the grant ends after grantLifetimeS', async () => {
    sandbox.configure({ refreshTokenTtlS: 1, grantLifetimeS: 3 });
    const idle = await api.connectedFlow();
    const kept = await api.connectedFlow();
    let refreshToken = kept.refreshToken;
    for (let i = 0; i < 3; i++) {
      await sleep(700);
      const rotated = await api.refresh(refreshToken);
      expect(rotated.status).toBe(200);
      refreshToken = rotated.body.refresh_token as string;
    }
    // 2.1 s in: the idle grant's refresh token died of inactivity, the kept one still works.
    expect((await api.refresh(idle.refreshToken)).status).toBe(400);
    await sleep(1000);
    // Past grantLifetimeS, even a fresh refresh token is refused.
    expect((await api.refresh(refreshToken)).status).toBe(400);
  });

  it('newerReportEachFetch: every fetch is one booking month newer', async () => {
    sandbox.configure({ newerReportEachFetch: true });
    const flow = await api.connectedFlow();
    const months = [];
    for (let i = 0; i < 3; i++) {
      const { body } = await api.getReport(flow.flowId, flow.accessToken);
      months.push((body.income.primary.last_booked_on as string).slice(0, 7));
    }
    const next = (month: string) => {
      const d = new Date(`${month}-15T00:00:00Z`);
      d.setUTCMonth(d.getUTCMonth() + 1);
      return d.toISOString().slice(0, 7);
    };
    expect(months[1]).toBe(next(months[0] as string));
    expect(months[2]).toBe(next(months[1] as string));
  });

  it('answers 401 after revokeAll, and the refresh token is dead too', async () => {
    const flow = await api.connectedFlow();
    sandbox.revokeAll();
    expect((await api.getReport(flow.flowId, flow.accessToken)).status).toBe(401);
    expect((await api.refresh(flow.refreshToken)).status).toBe(400);
  });
});

describe('fault injection', () => {
  it('answers scripted report responses in order, then behaves normally', async () => {
    const flow = await api.connectedFlow();
    sandbox.script('report', [{ status: 503, retryAfterS: 2 }, { status: 423 }, { status: 0, delayMs: 150 }]);
    const first = await api.getReport(flow.flowId, flow.accessToken);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(first.body.error).toMatchObject({ code: 30000, group: 'general' });
    const second = await api.getReport(flow.flowId, flow.accessToken);
    expect(second.status).toBe(423);
    expect(second.body.error.code).toBe(1008);
    const started = Date.now();
    expect((await api.getReport(flow.flowId, flow.accessToken)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect((await api.getReport(flow.flowId, flow.accessToken)).status).toBe(200);
    expect(sandbox.stats().reportFetches).toEqual({
      ready: 2,
      notReady: 0,
      unauthorized: 0,
      failed: 2,
      total: 4,
    });
  });

  it('a scripted token failure answers instead of processing, so the code still works afterwards', async () => {
    const { code } = await api.approvedFlow();
    sandbox.script('token', [
      { status: 502, body: { error: 'invalid_grant', error_description: 'old style' } },
    ]);
    const failed = await api.exchange(code);
    expect(failed.status).toBe(502);
    expect(failed.body).toEqual({ error: 'invalid_grant', error_description: 'old style' });
    expect((await api.exchange(code)).status).toBe(200);
    expect(sandbox.stats()).toMatchObject({ codeExchanges: 1, codeExchangesRejected: 1 });
  });

  it('keeps separate queues for the code and refresh grants', async () => {
    sandbox.script('refresh', [{ status: 429 }]);
    const flow = await api.connectedFlow();
    const limited = await api.refresh(flow.refreshToken);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await api.refresh(flow.refreshToken)).status).toBe(200);
    expect(sandbox.stats()).toMatchObject({ codeExchanges: 1, refreshes: 1, refreshesRejected: 1 });
  });

  it('scripts link answers, bodies included', async () => {
    sandbox.script('link', [{ status: 201, body: { location: 'https://widget.example/x', id: 'scripted' } }]);
    const res = await api.postJson('/onetime/income-report', { redirect_uri: REDIRECT_URI });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ location: 'https://widget.example/x', id: 'scripted' });
  });

  it('refuses an invalid script', () => {
    expect(() => sandbox.script('report', [{ status: 42 }])).toThrow();
    expect(() => sandbox.configure({ faults: { link: { failureRate: 2, failureStatus: 503 } } })).toThrow();
  });

  it('fails at the configured random rate with the configured status', async () => {
    sandbox.configure({ faults: { link: { failureRate: 1, failureStatus: 503 } } });
    const failed = await api.postJson('/onetime/income-report', { redirect_uri: REDIRECT_URI });
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(failed.body.error.group).toBe('general');
    sandbox.configure({ faults: { link: { failureRate: 0 } } });
    expect((await api.postJson('/onetime/income-report', { redirect_uri: REDIRECT_URI })).status).toBe(201);
    expect(sandbox.stats()).toMatchObject({ linksCreated: 1, linksRejected: 1 });
  });

  it('adds the configured latency to API calls', async () => {
    sandbox.configure({ latencyMs: 150 });
    const started = Date.now();
    await api.postJson('/onetime/income-report', { redirect_uri: REDIRECT_URI });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('/__sandbox control endpoints', () => {
  async function control(path: string, body?: unknown) {
    const res = await fetch(api.url(`/__sandbox/${path}`), {
      method: body === undefined && path === 'stats' ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('reads and resets the stats', async () => {
    await api.createLink();
    expect((await control('stats')).body).toMatchObject({ linksCreated: 1 });
    expect((await control('reset-stats')).body).toMatchObject({ linksCreated: 0 });
    expect(sandbox.stats().linksCreated).toBe(0);
  });

  it('configures, scripts and revokes over HTTP', async () => {
    const configured = await control('config', {
      reportDelayMs: 5000,
      faults: { report: { failureStatus: 504 } },
    });
    expect(configured.status).toBe(200);
    expect(configured.body).toMatchObject({
      reportDelayMs: 5000,
      faults: { report: { failureRate: 0, failureStatus: 504 } },
    });
    expect(configured.body).not.toHaveProperty('clientSecret');

    const flow = await api.connectedFlow();
    expect((await api.getReport(flow.flowId, flow.accessToken)).status).toBe(404);
    expect((await control('script', { endpoint: 'report', responses: [{ status: 500 }] })).status).toBe(200);
    expect((await api.getReport(flow.flowId, flow.accessToken)).status).toBe(500);
    expect((await control('revoke-all', {})).status).toBe(200);
    expect((await api.getReport(flow.flowId, flow.accessToken)).status).toBe(401);
  });

  it('refuses invalid options and scripts with 400', async () => {
    expect((await control('config', { latencyMs: -1 })).status).toBe(400);
    expect((await control('config', { unknown: true })).status).toBe(400);
    expect((await control('script', { endpoint: 'nope', responses: [] })).status).toBe(400);
  });
});

it('answers unknown paths with a JSON 404', async () => {
  const res = await api.get('/nope');
  expect(res.status).toBe(404);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
});
