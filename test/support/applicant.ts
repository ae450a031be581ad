import request from 'supertest';

/**
 * The one way tests drive an applicant's flow: a browser reduced to its session cookie, talking to
 * a real server over HTTP, and the sandbox widget's buttons. Each step is what a person does:
 *
 *   const applicant = new Applicant(server.url);
 *   const widget = await applicant.start();                  // GET /verification/start → the widget
 *   const back = await applicant.approveInWidget(widget);    // the widget sends the browser back
 *   expect(await applicant.callback(back)).toBe('/?verification=completed');
 *   const ready = await applicant.poll(['ready']);
 *
 * or all but the poll at once: `await applicant.completeFlow()` (`cancelFlow()` for a cancel).
 * A lender's start link starts the same way: `applicant.start(made.start_url)`.
 * `applicant.at(other.url)` is the same browser (the same cookie) at another instance;
 * `get`/`post`/`delete`/`head` send anything else with the cookie, as supertest requests.
 */

/** How a navigation from another site (the lender's page, an email) arrives. */
export const CROSS_SITE = { 'sec-fetch-site': 'cross-site' };
/** A top-level navigation: the server answers its errors with a redirect back to the page, not JSON. */
export const NAVIGATE = { 'sec-fetch-mode': 'navigate' };

export type Decision = 'approve' | 'cancel' | 'fail';

/** Where the widget sends the browser back: the callback URL and the parts tests look at. */
export interface WidgetReturn {
  url: string;
  /** The callback query exactly as the widget built it (leading `?`). */
  search: string;
  /** The callback's parameters, as the page posts them to /api/verification/callback in popup mode. */
  params: Record<string, string>;
  state: string;
  code: string;
  flowId: string;
}

/** The session cookie (`name=value`) among Set-Cookie headers, if one was set. */
export function sessionCookieIn(setCookie: readonly string[] | string | undefined): string | undefined {
  const all = typeof setCookie === 'string' ? [setCookie] : (setCookie ?? []);
  return all.find((c) => /^(__Host-)?bff\.sid=/.test(c))?.split(';')[0];
}

/** What the sandbox widget's buttons do: the provider sends the browser back to the callback URL. */
async function decideInWidget(widget: string, decision: Decision): Promise<WidgetReturn> {
  const url = new URL(widget);
  const res = await fetch(new URL('/widget/complete', url.origin), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: url.searchParams.get('token') ?? '', decision }).toString(),
    redirect: 'manual',
  });
  if (res.status !== 302) throw new Error(`widget completion answered ${res.status}`);
  const back = new URL(res.headers.get('location') as string);
  const param = (name: string) => back.searchParams.get(name) ?? '';
  return {
    url: back.toString(),
    search: back.search,
    params: Object.fromEntries(back.searchParams),
    state: param('state'),
    code: param('code'),
    flowId: param('flow_id'),
  };
}

export class Applicant {
  /** Shared with the views `at()` returns: one browser, one cookie, whichever instance it talks to. */
  private jar: { cookie: string | undefined };

  /** A browser talking to `base`, with no session yet or the given `cookie` (`name=value`). */
  constructor(
    readonly base: string,
    cookie?: string,
  ) {
    this.jar = { cookie };
  }

  /** The session cookie (`name=value`) the browser holds, if the server has set one. */
  get cookie(): string | undefined {
    return this.jar.cookie;
  }

  /** The session cookie, for a step that needs one to have been set. */
  get session(): string {
    if (!this.jar.cookie) throw new Error('the server set no session cookie');
    return this.jar.cookie;
  }

  /** The same browser, with the same cookie, talking to another instance. */
  at(base: string): Applicant {
    const same = new Applicant(base);
    same.jar = this.jar;
    return same;
  }

  get(path: string): request.Test {
    return this.send(request(this.base).get(path));
  }
  head(path: string): request.Test {
    return this.send(request(this.base).head(path));
  }
  post(path: string): request.Test {
    return this.send(request(this.base).post(path));
  }
  delete(path: string): request.Test {
    return this.send(request(this.base).delete(path));
  }

  /**
   * Opens /verification/start; returns where the server redirects: the widget, or back to the page
   * with a reason when it refuses (a navigation, see NAVIGATE). `from` is the query of the
   * applicant's own page's start (`?language=de`), or a lender's start link (`http…/verification/start?…`),
   * opened where it points, as a cross-site navigation from the lender's page.
   */
  async start(from = '', headers: Record<string, string> = {}): Promise<string> {
    const link = from.startsWith('http') ? new URL(from) : undefined;
    const res = link
      ? await this.at(link.origin)
          .get(link.pathname + link.search)
          .set({ ...CROSS_SITE, ...headers })
      : await this.get(`/verification/start${from}`).set(headers);
    if (res.status !== 302) throw new Error(`start answered ${res.status}: ${res.text}`);
    return res.headers.location as string;
  }

  /** Presses a button in the widget (the provider's page, not our server); returns where it sends the browser back. */
  decideInWidget(widget: string, decision: Decision): Promise<WidgetReturn> {
    return decideInWidget(widget, decision);
  }

  approveInWidget(widget: string): Promise<WidgetReturn> {
    return decideInWidget(widget, 'approve');
  }

  /** Comes back to the callback URL (a widget's return, or any URL); returns where the server redirects. */
  async callback(back: WidgetReturn | string): Promise<string> {
    const url = new URL(typeof back === 'string' ? back : back.url, 'http://relative.invalid');
    const res = await this.get(url.pathname + url.search);
    if (res.status !== 302) throw new Error(`callback answered ${res.status}: ${res.text}`);
    return res.headers.location as string;
  }

  /** Starts and approves in the widget, but does not come back yet: the flow is pending. */
  async startAndApprove(from = '', headers: Record<string, string> = {}): Promise<WidgetReturn> {
    return this.approveInWidget(await this.start(from, headers));
  }

  /** Starts, approves and comes back (`headers` go with the start): the flow is completed, its report job queued. */
  completeFlow(from = '', headers: Record<string, string> = {}): Promise<WidgetReturn> {
    return this.finishFlow('approve', '/?verification=completed', from, headers);
  }

  /** Starts, cancels in the widget and comes back: the quickest way to an ended verification. */
  cancelFlow(from = '', headers: Record<string, string> = {}): Promise<WidgetReturn> {
    return this.finishFlow('cancel', '/?verification=cancelled', from, headers);
  }

  /** Polls GET /api/verification (every 50 ms) until its status is one of `statuses`. */
  async poll(statuses: string[], timeoutMs = 10_000): Promise<request.Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.get('/api/verification').expect(200);
      if (statuses.includes(res.body.status)) return res;
      if (Date.now() > deadline)
        throw new Error(`still ${res.body.status} after ${timeoutMs} ms; wanted ${statuses.join('/')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async finishFlow(
    decision: Decision,
    expected: string,
    from: string,
    headers: Record<string, string>,
  ): Promise<WidgetReturn> {
    const back = await decideInWidget(await this.start(from, headers), decision);
    const location = await this.callback(back);
    if (location !== expected) throw new Error(`the callback went to ${location}, not ${expected}`);
    return back;
  }

  /** Sends the cookie and keeps the one the answer sets (a regenerated session replaces it). */
  private send(test: request.Test): request.Test {
    if (this.jar.cookie) test.set('cookie', this.jar.cookie);
    test.on('response', (res: { headers: Record<string, string | string[] | undefined> }) => {
      this.jar.cookie = sessionCookieIn(res.headers['set-cookie']) ?? this.jar.cookie;
    });
    return test;
  }
}
