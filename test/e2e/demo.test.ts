// The demo page in a real browser: Debian's Chromium (driven by playwright-core) against the real
// server and the sandbox widget, over real HTTP, in all three widget modes.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildIncomeReport, type IncomeReport } from '../../src/sandbox/income-report';
import { defaultSandboxOptions, type Sandbox } from '../../src/sandbox/sandbox-server';
import { inspectRedis, startTestSandbox, startTestServer, type TestServer } from '../support/harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(__dirname, '..', '..', 'test-results');
const READY_TIMEOUT_MS = 20_000;
const STEP_TIMEOUT_MS = 10_000;

/** Forwards CSP violations (also those in frames and popups) to the console, where they are collected. */
const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' on ' + location.href);
});`;

jest.setTimeout(30_000);

let sandbox: Sandbox;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM} and there is none. ` +
        'Install it (Debian: `apt-get install -y chromium`), or set CHROMIUM_PATH to a Chromium binary.',
    );
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  sandbox = await startTestSandbox({ reportDelayMs: 0 });
  // The widget's second host (the sandbox under "localhost") is allowed too, for the variant below.
  const secondHost = `http://localhost:${new URL(sandbox.url).port}`;
  server = await startTestServer({
    sandbox,
    env: { WIDGET_ALLOWED_ORIGINS: `${sandbox.url},${secondHost}` },
  });
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (err) {
    throw new Error(
      `Chromium at ${CHROMIUM} did not start (reinstall it with \`apt-get install -y chromium\`): ${String(err)}`,
    );
  }
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close().catch(() => undefined);
  await sandbox?.close().catch(() => undefined);
  if (server) {
    const redis = await inspectRedis();
    await redis.dropPrefix(server.prefix);
    await redis.close();
  }
});

interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations of every page and frame in the context. */
  problems: string[];
  /** Resolves with the flow id of the first callback the browser sends (GET /callback or the iframe POST). */
  flowId: Promise<string>;
}

async function openDemo(): Promise<Session> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.addInitScript({ content: REPORT_CSP_VIOLATIONS });
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      const source = msg.location().url;
      if (msg.type() === 'error' || /content security policy/i.test(msg.text()))
        problems.push(`console.${msg.type()} on ${page.url()}: ${msg.text()}${source ? ` (${source})` : ''}`);
    });
    page.on('pageerror', (err) => problems.push(`uncaught on ${page.url()}: ${err.message}`));
    page.on('response', (res) => {
      if (res.status() >= 400)
        problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    });
  };
  context.on('page', watch);

  const callbackPath = new URL('/callback', server.url).href;
  const postCallback = new URL('/api/verification/callback', server.url).href;
  const flowId = new Promise<string>((resolve) => {
    context.on('request', (req) => {
      const url = new URL(req.url());
      if (req.method() === 'GET' && `${url.origin}${url.pathname}` === callbackPath) {
        resolve(url.searchParams.get('flow_id') ?? '');
      } else if (req.method() === 'POST' && req.url() === postCallback) {
        resolve(String((req.postDataJSON() as { flow_id?: unknown } | null)?.flow_id ?? ''));
      }
    });
  });

  const page = await context.newPage();
  await page.goto('/');
  expect(new URL(page.url()).origin).toBe(server.url);
  await page.locator('main[data-status="none"]').waitFor();
  return { context, page, problems, flowId };
}

async function verificationStatus(page: Page): Promise<{ status: string; report: IncomeReport | null }> {
  const res = await page.request.get('/api/verification');
  expect(res.status()).toBe(200);
  return (await res.json()) as { status: string; report: IncomeReport | null };
}

const sumAverages = (groups: IncomeReport['regular_expenses']) =>
  Math.round(groups.reduce((total, g) => total + g.summary.average, 0) * 100) / 100;

/** The page shows exactly the figures of the report the sandbox generated for this flow. */
async function expectReportFigures(session: Session): Promise<void> {
  const { page } = session;
  const flowId = await session.flowId;
  expect(flowId).toMatch(/\S/);

  const api = await verificationStatus(page);
  expect(api.status).toBe('ready');
  expect(api.report).not.toBeNull();
  const report = api.report as IncomeReport;
  const generated = buildIncomeReport(flowId, report.period);
  // The BFF passes the sandbox's figures through untouched (dates depend on the day it ran).
  const figuresOf = (r: IncomeReport) => ({
    period: r.period,
    income: r.income.summary,
    partner: r.income.primary.payment_partner,
    regular: r.regular_expenses.map((g) => g.summary),
    variable: r.variable_expenses.map((g) => g.summary),
    disposable: r.disposable_income,
    discretionary: r.discretionary_income,
  });
  expect(figuresOf(report)).toEqual(figuresOf(generated));

  const expected: Record<string, number> = {
    'income-average': generated.income.summary.average,
    'income-total': generated.income.summary.total,
    'regular-expenses-average': sumAverages(generated.regular_expenses),
    'variable-expenses-average': sumAverages(generated.variable_expenses),
    'disposable-average': generated.disposable_income.average,
    'discretionary-average': generated.discretionary_income.average,
    'disposable-ratio': generated.disposable_income.ratio,
  };
  const shown: Record<string, number> = {};
  for (const id of Object.keys(expected)) {
    const value = await page.locator(`#${id}`).getAttribute('data-value');
    expect(value).not.toBeNull();
    shown[id] = Number(value);
  }
  for (const [id, value] of Object.entries(expected)) {
    expect([id, shown[id]]).toEqual([id, expect.closeTo(value, 2)]);
  }
  expect(await page.locator('#primary-source').getAttribute('data-value')).toBe(
    generated.income.primary.payment_partner,
  );
  expect(await page.locator('#report-period').getAttribute('data-value')).toBe(String(generated.period));
  await expect(page.locator('#report').isVisible()).resolves.toBe(true);
  await expect(page.locator('#report-chart svg').count()).resolves.toBe(1);
}

async function waitForStatus(page: Page, status: string, timeout = READY_TIMEOUT_MS): Promise<void> {
  try {
    await page.locator(`main[data-status="${status}"]`).waitFor({ timeout });
  } catch (err) {
    const now = await page
      .locator('main')
      .getAttribute('data-status')
      .catch(() => '?');
    throw new Error(`main[data-status] is "${now}", not "${status}", after ${timeout} ms: ${String(err)}`);
  }
}

async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(SCREENSHOTS, `e2e-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Runs one scenario in a fresh browser context. The final page is saved as test-results/e2e-<name>.png
 * (on failure: e2e-<name>-failed.png, and the error lists what the browser reported); any console
 * error, uncaught exception or CSP violation fails the scenario.
 */
async function scenario(name: string, body: (session: Session) => Promise<void>): Promise<void> {
  const session = await openDemo();
  try {
    await body(session);
    await screenshot(session.page, name);
  } catch (err) {
    const shot = await screenshot(session.page, `${name}-failed`).catch(() => 'none');
    const seen = session.problems.length ? session.problems.join('\n  ') : 'none';
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\n\nScreenshot: ${shot}\nBrowser problems:\n  ${seen}`, { cause: err });
  } finally {
    await session.context.close();
  }
  expect(session.problems).toEqual([]);
}

function sandboxWidget(url: URL): boolean {
  return url.origin === new URL(sandbox.url).origin && url.pathname === '/widget';
}

describe('demo page in Chromium', () => {
  it('full page: the tab goes to the widget and comes back to the report', () =>
    scenario('full', async (session) => {
      const { page } = session;
      await page.check('#mode-full');
      await page.click('#start');
      await page.waitForURL(sandboxWidget);
      await page.click('#approve');
      await waitForStatus(page, 'ready');
      expect(new URL(page.url()).origin).toBe(server.url);
      expect(new URL(page.url()).search).toBe(''); // the return parameters are taken off the address
      await expectReportFigures(session);
    }));

  it('popup: the widget opens in a window that hands the result back and closes', () =>
    scenario('popup', async (session) => {
      const { page, context } = session;
      await page.check('#mode-popup');
      const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#start')]);
      await popup.waitForURL(sandboxWidget);
      await waitForStatus(page, 'awaiting_user', STEP_TIMEOUT_MS);
      const closed = popup.waitForEvent('close', { timeout: READY_TIMEOUT_MS });
      await popup.click('#approve');
      await closed;
      await waitForStatus(page, 'ready');
      await expectReportFigures(session);
    }));

  it('iframe overlay: the widget runs in the dialog; then "Delete my data" removes everything', () =>
    scenario('iframe-deleted', async (session) => {
      const { page } = session;
      await page.check('#mode-iframe');
      await page.click('#start');
      const dialog = page.locator('dialog#widget-dialog');
      await page.locator('dialog#widget-dialog[open] #widget-frame-host iframe').waitFor();
      await page.frameLocator('#widget-frame-host iframe').locator('#approve').click();
      await waitForStatus(page, 'ready');
      expect(await dialog.getAttribute('open')).toBeNull();
      expect(await page.locator('#widget-frame-host iframe').count()).toBe(0);
      await expectReportFigures(session);
      await screenshot(page, 'iframe');

      await page.click('#delete');
      await waitForStatus(page, 'none', STEP_TIMEOUT_MS);
      expect(await page.locator('#report').isVisible()).toBe(false);
      expect(await page.locator('#start-notice').isVisible()).toBe(true);
      expect(await page.locator('#data-controls').isVisible()).toBe(false);
      expect((await verificationStatus(page)).status).toBe('none');
    }));

  it('in German: the switch and the widget language turn the page German, the report in German formats', () =>
    scenario('german', async (session) => {
      const { page } = session;
      await page.click('button[data-locale="de"]');
      expect(await page.locator('#start-heading').textContent()).toBe('Einkommen nachweisen');
      expect(await page.getAttribute('html', 'lang')).toBe('de');
      expect(await page.inputValue('#language')).toBe('de');
      await page.selectOption('#language', 'en');
      expect(await page.locator('#start-heading').textContent()).toBe('Verify your income');
      await page.selectOption('#language', 'de');
      await page.check('#mode-full');
      await page.click('#start');
      await page.waitForURL(sandboxWidget);
      await page.click('#approve');
      await waitForStatus(page, 'ready');
      // Back from the widget the page starts in the browser's language; the switch turns it German.
      await page.click('button[data-locale="de"]');
      expect(await page.locator('#report-heading').textContent()).toBe('Ihr Einkommensbericht');
      // Intl in German: "2.850,00 €".
      expect(await page.locator('#income-average').textContent()).toMatch(/^[\d.]+,\d{2}\s€$/);
    }));

  it('full page, cancelled in the widget: the outcome says so and offers a retry', () =>
    scenario('full-cancelled', async (session) => {
      const { page } = session;
      await page.check('#mode-full');
      await page.click('#start');
      await page.waitForURL(sandboxWidget);
      await page.click('#cancel');
      await waitForStatus(page, 'cancelled');
      expect(await page.locator('#outcome-heading').textContent()).toMatch(/cancel/i);
      expect(await page.locator('#outcome-message').textContent()).toMatch(/cancel/i);
      expect(await page.locator('#retry').isVisible()).toBe(true);
      expect(await page.locator('#report').isVisible()).toBe(false);
      expect((await verificationStatus(page)).status).toBe('cancelled');
    }));
});

describe('demo page in Chromium, with provider variants (iframe mode)', () => {
  afterEach(() => sandbox.configure({ variants: defaultSandboxOptions.variants }));

  const overlayDecision = async (page: Page, decision: 'approve' | 'cancel') => {
    await page.check('#mode-iframe');
    await page.click('#start');
    await page.locator('dialog#widget-dialog[open] #widget-frame-host iframe').waitFor();
    await page.frameLocator('#widget-frame-host iframe').locator(`#${decision}`).click();
  };

  it('the newer message { link, query } with JSON booleans and abort: a cancel is cancelled', () =>
    scenario('iframe-link-abort', async ({ page }) => {
      sandbox.configure({ variants: { messageShape: 'link', cancelFlag: 'abort' } });
      await overlayDecision(page, 'cancel');
      await waitForStatus(page, 'cancelled');
      expect((await verificationStatus(page)).status).toBe('cancelled');
    }));

  it('the newer message { link, query }: an approval reaches the report', () =>
    scenario('iframe-link-approve', async (session) => {
      sandbox.configure({ variants: { messageShape: 'link' } });
      await overlayDecision(session.page, 'approve');
      await waitForStatus(session.page, 'ready');
      await expectReportFigures(session);
    }));

  it('a widget that completes on another of the provider hosts: its message is accepted', () =>
    scenario('iframe-second-host', async (session) => {
      sandbox.configure({ variants: { completeHost: 'localhost' } });
      await overlayDecision(session.page, 'approve');
      await waitForStatus(session.page, 'ready');
      await expectReportFigures(session);
    }));
});
