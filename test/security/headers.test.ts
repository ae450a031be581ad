import type { Sandbox } from '../../src/sandbox/sandbox-server';
import {
  HIGH_RATE_LIMITS,
  inspectRedis,
  startTestSandbox,
  startTestServer,
  type TestServer,
} from '../support/harness';
import {
  closeClients,
  send,
  sessionCookieOf,
  approvedBy,
  type ApprovedFlow,
  type Reply,
  type SendOptions,
} from './security-support';
import { Applicant } from '../support/applicant';

let sandbox: Sandbox;
let redis: Awaited<ReturnType<typeof inspectRedis>>;
let plain: TestServer;
let tls: TestServer;
let widgetOrigin: string;

/** What a TLS-terminating proxy in front of the https deployment adds. */
const VIA_TLS_PROXY = { 'x-forwarded-proto': 'https' };

beforeAll(async () => {
  sandbox = await startTestSandbox();
  widgetOrigin = new URL(sandbox.url).origin;
  redis = await inspectRedis();
  plain = await startTestServer({ sandbox, env: HIGH_RATE_LIMITS });
  tls = await startTestServer({
    sandbox,
    env: { ...HIGH_RATE_LIMITS, PUBLIC_BASE_URL: 'https://bff.example', TRUST_PROXY: 'true' },
  });
});
afterAll(async () => {
  for (const server of [plain, tls]) {
    await server.close();
    await redis.dropPrefix(server.prefix);
  }
  await sandbox.close();
  await redis.close();
  closeClients();
});

interface Route {
  name: string;
  /** Sends the request to `server`; `headers` go on every request the route makes (the proxy's). */
  send(server: TestServer, headers: Record<string, string>): Promise<Reply>;
  status: number;
  /** Under /api/ or /callback: must never be cached. */
  noStore: boolean;
}

const json = (headers: Record<string, string>, options: SendOptions = {}): SendOptions => ({
  ...options,
  headers: { 'content-type': 'application/json', ...headers, ...options.headers },
});

const routes: Route[] = [
  { name: 'GET / (the page)', send: (s, h) => send(s.url, '/', { headers: h }), status: 200, noStore: false },
  {
    name: 'GET /healthz',
    send: (s, h) => send(s.url, '/healthz', { headers: h }),
    status: 200,
    noStore: false,
  },
  {
    name: 'GET /readyz',
    send: (s, h) => send(s.url, '/readyz', { headers: h }),
    status: 200,
    noStore: false,
  },
  {
    name: 'GET /verification/start',
    send: (s, h) => send(s.url, '/verification/start', { headers: h }),
    status: 302,
    noStore: true,
  },
  {
    name: 'GET /verification/start refused',
    send: (s, h) => send(s.url, '/verification/start?language=xx', { headers: h }),
    status: 400,
    noStore: true,
  },
  {
    name: 'GET /callback completing a flow',
    send: async (s, h) => {
      const flow = await approvedBy(new Applicant(s.url), h);
      return send(s.url, `/callback${flow.search}`, { cookie: flow.cookie, headers: h });
    },
    status: 302,
    noStore: true,
  },
  {
    name: 'GET /callback refused',
    send: (s, h) => send(s.url, '/callback?state=nope&success=false', { headers: h }),
    status: 302,
    noStore: true,
  },
  {
    name: 'GET /api/verification',
    send: (s, h) => send(s.url, '/api/verification', { headers: h }),
    status: 200,
    noStore: true,
  },
  {
    // A browser with a session takes the fast poll path, ahead of the Express stack and helmet.
    name: 'GET /api/verification with a session (fast poll path)',
    send: async (s, h) => {
      const flow = await approvedBy(new Applicant(s.url), h);
      await send(s.url, '/api/verification', { cookie: flow.cookie, headers: h });
      return send(s.url, '/api/verification', { cookie: flow.cookie, headers: h });
    },
    status: 200,
    noStore: true,
  },
  {
    name: 'GET /api/verification refused',
    send: (s, h) => send(s.url, '/api/verification?x=1', { headers: h }),
    status: 400,
    noStore: true,
  },
  {
    name: 'POST /api/verification',
    send: (s, h) => send(s.url, '/api/verification', json(h, { method: 'POST', body: '{}' })),
    status: 201,
    noStore: true,
  },
  {
    name: 'POST /api/verification refused',
    send: (s, h) =>
      send(s.url, '/api/verification', {
        method: 'POST',
        headers: { ...h, 'content-type': 'text/plain' },
        body: '{}',
      }),
    status: 415,
    noStore: true,
  },
  {
    name: 'DELETE /api/verification',
    send: async (s, h) => {
      const flow = await approvedBy(new Applicant(s.url), h);
      return send(s.url, '/api/verification', json(h, { method: 'DELETE', cookie: flow.cookie }));
    },
    status: 204,
    noStore: true,
  },
  {
    name: 'DELETE /api/verification refused',
    send: (s, h) =>
      send(
        s.url,
        '/api/verification',
        json(h, { method: 'DELETE', headers: { origin: 'https://evil.example' } }),
      ),
    status: 403,
    noStore: true,
  },
  {
    name: 'POST /api/verification/callback',
    send: async (s, h) => {
      const flow = await approvedBy(new Applicant(s.url), h);
      const body = JSON.stringify(Object.fromEntries(new URLSearchParams(flow.search)));
      return send(
        s.url,
        '/api/verification/callback',
        json(h, { method: 'POST', cookie: flow.cookie, body }),
      );
    },
    status: 200,
    noStore: true,
  },
  {
    name: 'POST /api/verification/callback refused',
    send: (s, h) =>
      send(
        s.url,
        '/api/verification/callback',
        json(h, { method: 'POST', body: '{"state":"x","success":"false"}' }),
      ),
    status: 400,
    noStore: true,
  },
  {
    name: 'GET /openapi.json',
    send: (s, h) => send(s.url, '/openapi.json', { headers: h }),
    status: 200,
    noStore: false,
  },
  {
    name: 'GET /metrics',
    send: (s, h) => send(s.url, '/metrics', { headers: h }),
    status: 200,
    noStore: false,
  },
  {
    name: 'GET /nowhere (404)',
    send: (s, h) => send(s.url, '/nowhere', { headers: h }),
    status: 404,
    noStore: false,
  },
  {
    name: 'GET /api/nowhere (404 under /api)',
    send: (s, h) => send(s.url, '/api/nowhere', { headers: h }),
    status: 404,
    noStore: true,
  },
];

/** `default-src 'self'; frame-src http://…` → { 'default-src': ["'self'"], 'frame-src': ['http://…'] }. */
function cspDirectives(reply: Reply): Record<string, string[]> {
  const header = reply.headers['content-security-policy'];
  expect(typeof header).toBe('string');
  return Object.fromEntries(
    String(header)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [String(name).toLowerCase(), values]),
  );
}

function expectSecurityHeaders(reply: Reply, route: Route): void {
  expect(reply.status).toBe(route.status);
  const csp = cspDirectives(reply);
  expect(csp['script-src']).toEqual(["'self'"]);
  expect(csp['frame-src']).toEqual([widgetOrigin]);
  expect(csp['default-src']).toEqual(["'self'"]);
  expect(csp['object-src']).toEqual(["'none'"]);
  expect(csp['base-uri']).toEqual(["'none'"]);
  expect(csp['frame-ancestors']).toEqual(["'self'"]);
  expect(reply.headers['x-content-type-options']).toBe('nosniff');
  expect(reply.headers['referrer-policy']).toBe('no-referrer');
  expect(reply.headers['x-powered-by']).toBeUndefined();
  if (route.noStore) expect(reply.headers['cache-control']).toBe('no-store');
}

interface CookieAttributes {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

function parseSetCookie(header: string): CookieAttributes {
  const [pair = '', ...rest] = header.split(';').map((p) => p.trim());
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const at = part.indexOf('=');
    attributes.set((at < 0 ? part : part.slice(0, at)).toLowerCase(), at < 0 ? '' : part.slice(at + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** Every Set-Cookie of the response; exactly one, the session's. */
function sessionCookie(reply: Reply): CookieAttributes {
  const cookies = reply.headers['set-cookie'] ?? [];
  expect(cookies).toHaveLength(1);
  return parseSetCookie(cookies[0] as string);
}

describe('security headers over http', () => {
  it.each(routes.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    const reply = await route.send(plain, {});
    expectSecurityHeaders(reply, route);
    expect(cspDirectives(reply)['upgrade-insecure-requests']).toBeUndefined();
    expect(reply.headers['strict-transport-security']).toBeUndefined();
  });

  it('the callback never leaks its URL (code, state) through Referer, in success and failure', async () => {
    const flow = await approvedBy(new Applicant(plain.url));
    for (const query of ['?state=nope&success=false', flow.search]) {
      const reply = await send(plain.url, `/callback${query}`, { cookie: flow.cookie });
      expect(reply.status).toBe(302);
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
      expect(reply.headers['cache-control']).toBe('no-store');
    }
  });
});

describe('security headers over https (behind a TLS proxy)', () => {
  it.each(routes.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    const reply = await route.send(tls, VIA_TLS_PROXY);
    expectSecurityHeaders(reply, route);
    expect(cspDirectives(reply)['upgrade-insecure-requests']).toEqual([]);
    expect(reply.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });
});

describe('the session cookie', () => {
  const expectHttpCookie = (cookie: CookieAttributes) => {
    expect(cookie.name).toBe('bff.sid');
    expect(cookie.attributes.get('path')).toBe('/');
    expect(cookie.attributes.has('httponly')).toBe(true);
    expect(cookie.attributes.get('samesite')).toBe('Lax');
    expect(cookie.attributes.has('domain')).toBe(false);
    expect(cookie.attributes.has('secure')).toBe(false);
  };
  const expectHostCookie = (cookie: CookieAttributes) => {
    expect(cookie.name).toBe('__Host-bff.sid');
    expect(cookie.attributes.has('secure')).toBe(true);
    expect(cookie.attributes.get('path')).toBe('/');
    expect(cookie.attributes.has('domain')).toBe(false);
    expect(cookie.attributes.has('httponly')).toBe(true);
    expect(cookie.attributes.get('samesite')).toBe('Lax');
  };

  it('over http: bff.sid; Path=/; HttpOnly; SameSite=Lax; no Domain, no Secure (start, popup start, completed callback)', async () => {
    const started = await send(plain.url, '/verification/start');
    expect(started.status).toBe(302);
    expectHttpCookie(sessionCookie(started));

    const popup = await send(plain.url, '/api/verification', json({}, { method: 'POST', body: '{}' }));
    expect(popup.status).toBe(201);
    expectHttpCookie(sessionCookie(popup));

    const flow = await approvedBy(new Applicant(plain.url));
    const completed = await send(plain.url, `/callback${flow.search}`, { cookie: flow.cookie });
    expect(completed.headers.location).toBe('/?verification=completed');
    const regenerated = sessionCookie(completed);
    expectHttpCookie(regenerated);
    expect(`${regenerated.name}=${regenerated.value}`).not.toBe(flow.cookie);
  });

  it('the cookie value is only a signed session id', async () => {
    const flow = await approvedBy(new Applicant(plain.url));
    const value = decodeURIComponent(flow.cookie.slice(flow.cookie.indexOf('=') + 1));
    expect(value).toMatch(/^s:[A-Za-z0-9_-]{20,64}\.[A-Za-z0-9+/_-]{20,64}$/);
    for (const secret of [flow.state, flow.code, flow.flowId]) expect(value).not.toContain(secret);
  });

  it('over https: __Host-bff.sid; Secure; Path=/; HttpOnly; SameSite=Lax; no Domain (start, popup start, completed callback)', async () => {
    const started = await send(tls.url, '/verification/start', { headers: VIA_TLS_PROXY });
    expect(started.status).toBe(302);
    expectHostCookie(sessionCookie(started));
    expect(started.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');

    const popup = await send(
      tls.url,
      '/api/verification',
      json(VIA_TLS_PROXY, { method: 'POST', body: '{}' }),
    );
    expect(popup.status).toBe(201);
    expectHostCookie(sessionCookie(popup));

    const flow = await approvedBy(new Applicant(tls.url), VIA_TLS_PROXY);
    expect(flow.cookie.startsWith('__Host-bff.sid=')).toBe(true);
    const completed = await send(tls.url, `/callback${flow.search}`, {
      cookie: flow.cookie,
      headers: VIA_TLS_PROXY,
    });
    expect(completed.headers.location).toBe('/?verification=completed');
    expectHostCookie(sessionCookie(completed));
  });

  it('over https, a request that reached the server over plain http gets no cookie at all', async () => {
    const started = await send(tls.url, '/verification/start');
    expect(started.status).toBe(302);
    expect(started.headers['set-cookie']).toBeUndefined();
    expect(sessionCookieOf(started)).toBeUndefined();
  });

  it.each([
    [
      'GET /callback',
      (flow: ApprovedFlow) => send(plain.url, `/callback${flow.search}`, { cookie: flow.cookie }),
    ],
    [
      'POST /api/verification/callback',
      (flow: ApprovedFlow) =>
        send(
          plain.url,
          '/api/verification/callback',
          json(
            {},
            {
              method: 'POST',
              cookie: flow.cookie,
              body: JSON.stringify(Object.fromEntries(new URLSearchParams(flow.search))),
            },
          ),
        ),
    ],
  ])(
    'a session id known before %s completes is worthless after it (no fixation)',
    async (_name, complete) => {
      const flow = await approvedBy(new Applicant(plain.url));
      const done = await complete(flow);
      expect(done.status).toBeLessThan(400);
      const fresh = sessionCookieOf(done);
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(flow.cookie);
      const oldSid = decodeURIComponent(flow.cookie.split('=')[1] ?? '')
        .slice(2)
        .split('.')[0];
      expect(await redis.exists(`${plain.prefix}sess:${oldSid}`)).toBe(0);
      const withOld = await send(plain.url, '/api/verification', { cookie: flow.cookie });
      expect(withOld.json).toMatchObject({ status: 'none' });
      const withFresh = await send(plain.url, '/api/verification', { cookie: fresh });
      expect(withFresh.json).toMatchObject({ status: expect.stringMatching(/^(processing|ready)$/) });
    },
  );
});
