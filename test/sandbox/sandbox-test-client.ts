import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { TEST_CLIENT } from '../support/harness';

// The sandbox is started by the one test starter (harness startTestSandbox) with the test client.
export { startTestSandbox } from '../support/harness';
export const CLIENT = TEST_CLIENT;
export const REDIRECT_URI = 'http://localhost:3000/callback?keep=1';

export function basic(id = CLIENT.clientId, secret = CLIENT.clientSecret): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export interface JsonAnswer {
  status: number;
  headers: Headers;
  // Answers are asserted field by field in the tests; `any` keeps those assertions short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function answer(res: Response): Promise<JsonAnswer> {
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** A thin client for the sandbox's HTTP API, speaking exactly what a finX client would send. */
export function sandboxClient(sandbox: Sandbox) {
  const url = (path: string): string => `${sandbox.url}${path}`;

  /** `authorization: null` sends no Authorization header. */
  async function postJson(path: string, body: unknown, authorization: string | null = basic()) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization !== null) headers.authorization = authorization;
    return answer(await fetch(url(path), { method: 'POST', headers, body: JSON.stringify(body) }));
  }

  async function createLink(body: Record<string, unknown> = {}): Promise<{ location: string; id: string }> {
    const res = await postJson('/onetime/income-report', {
      redirect_uri: REDIRECT_URI,
      state: 'st-1',
      ...body,
    });
    if (res.status !== 201) throw new Error(`link creation answered ${res.status}`);
    return res.body as { location: string; id: string };
  }

  /** Submits one of the widget's forms, as the browser would. */
  function complete(
    location: string,
    decision: string,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const token = new URL(location).searchParams.get('token') ?? '';
    return fetch(url('/widget/complete'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, decision, ...extra }).toString(),
      redirect: 'manual',
    });
  }

  /** Link, approve, and read the code off the callback URL. */
  async function approvedFlow(body: Record<string, unknown> = {}): Promise<{ flowId: string; code: string }> {
    const link = await createLink(body);
    const res = await complete(link.location, 'approve');
    const callback = new URL(res.headers.get('location') ?? '');
    return { flowId: link.id, code: callback.searchParams.get('code') ?? '' };
  }

  function exchange(code: string, redirectUri = REDIRECT_URI) {
    return postJson('/auth/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri });
  }

  function refresh(refreshToken: string) {
    return postJson('/auth/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /** Link, approve and exchange: a flow with a live token pair. */
  async function connectedFlow(body: Record<string, unknown> = {}) {
    const { flowId, code } = await approvedFlow(body);
    const tokens = await exchange(code);
    if (tokens.status !== 200) throw new Error(`code exchange answered ${tokens.status}`);
    return {
      flowId,
      accessToken: tokens.body.access_token as string,
      refreshToken: tokens.body.refresh_token as string,
    };
  }

  async function getReport(id: string, accessToken: string | undefined) {
    const headers: Record<string, string> = {};
    if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;
    return answer(await fetch(url(`/rest/income-reports/${encodeURIComponent(id)}`), { headers }));
  }

  async function get(path: string) {
    return fetch(url(path));
  }

  return {
    url,
    postJson,
    createLink,
    complete,
    approvedFlow,
    exchange,
    refresh,
    connectedFlow,
    getReport,
    get,
  };
}

export type SandboxClient = ReturnType<typeof sandboxClient>;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every <script> must load a file or be an inert JSON block: the widget's CSP forbids inline code. */
export function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
    .filter(([, attrs = '']) => !/\bsrc=/.test(attrs) && !/type="application\/json"/.test(attrs))
    .map(([tag]) => tag);
}
