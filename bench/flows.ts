const REQUEST_TIMEOUT_MS = 10_000;

/** A browser reduced to one cookie (name=value) and manual redirects. */
export class CookieBrowser {
  cookie: string | undefined;

  constructor(private readonly cookieName: string) {}

  async get(url: string): Promise<Response> {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: this.cookie ? { cookie: this.cookie } : {},
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${this.cookieName}=`));
    if (set) this.cookie = set.split(';')[0];
    return res;
  }
}

/** What the sandbox widget's Approve button does: returns the callback URL the browser is sent to. */
export async function approveInWidget(widgetLocation: string): Promise<string> {
  const widget = new URL(widgetLocation);
  const res = await fetch(new URL('/widget/complete', widget.origin), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token: widget.searchParams.get('token') ?? '',
      decision: 'approve',
    }).toString(),
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`widget completion answered ${res.status}`);
  return location;
}

export interface FlowRoutes {
  cookieName: string;
  start: string;
  poll: string;
}

export const OUR_ROUTES: FlowRoutes = {
  cookieName: 'bff.sid',
  start: '/verification/start',
  poll: '/api/verification',
};
export const NAIVE_ROUTES: FlowRoutes = {
  cookieName: 'connect.sid',
  start: '/start',
  poll: '/api/verification',
};

export interface CompletedFlow {
  cookie: string;
  /** The poll answer once ready, exactly as sent. */
  body: string;
}

/** start → widget approve → callback; returns the browser with its session cookie. */
export async function completeFlow(baseUrl: string, routes: FlowRoutes): Promise<CookieBrowser> {
  const browser = new CookieBrowser(routes.cookieName);
  const start = await browser.get(baseUrl + routes.start);
  const widget = start.headers.get('location');
  if (start.status !== 302 || !widget)
    throw new Error(`start answered ${start.status}: ${await start.text()}`);
  const callback = new URL(await approveInWidget(widget));
  const back = await browser.get(`${baseUrl}${callback.pathname}${callback.search}`);
  if (back.status !== 302) throw new Error(`callback answered ${back.status}: ${await back.text()}`);
  const target = back.headers.get('location') ?? '';
  if (target.includes('verification=failed')) throw new Error(`callback failed: ${target}`);
  if (!browser.cookie) throw new Error('no session cookie after the callback');
  return browser;
}

/** Polls (bounded) until the verification is `ready`. */
export async function pollUntilReady(
  baseUrl: string,
  routes: FlowRoutes,
  browser: CookieBrowser,
): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (let attempt = 0; attempt < 200; attempt++) {
    const res = await browser.get(baseUrl + routes.poll);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${body}`);
    const status = (JSON.parse(body) as { status: string }).status;
    if (status === 'ready') return body;
    if (status !== 'processing' && status !== 'awaiting_user')
      throw new Error(`verification ended ${status}: ${body}`);
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('verification did not become ready in time');
}

/** Drives `count` flows to `ready`, `concurrency` at a time. */
export async function readySessions(
  baseUrl: string,
  routes: FlowRoutes,
  count: number,
  concurrency = 8,
): Promise<CompletedFlow[]> {
  const flows: CompletedFlow[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const browser = await completeFlow(baseUrl, routes);
      const body = await pollUntilReady(baseUrl, routes, browser);
      flows.push({ cookie: browser.cookie as string, body });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return flows;
}
