import http from 'node:http';
import net from 'node:net';
import { type inspectRedis } from '../support/harness';
import { sessionCookieIn, type Applicant, type WidgetReturn } from '../support/applicant';

/** A response reduced to what the security tests look at. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** A `name=value` session cookie to send. */
  cookie?: string | undefined;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Closes the pooled connections, so jest does not wait on them. */
export function closeClients(): void {
  keepAlive.destroy();
}

function toReply(status: number, headers: http.IncomingHttpHeaders, text: string): Reply {
  let json: unknown;
  if (String(headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status, headers, text, json };
}

/** One request with node:http: no cookie jar, no redirects followed, the path sent as given. */
export function send(base: string, path: string, options: SendOptions = {}): Promise<Reply> {
  const url = new URL(base);
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path,
        headers,
        agent: keepAlive,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve(toReply(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8'))),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Writes `head` (and `body`) byte for byte on a fresh TCP connection: for what node:http refuses to
 * send (CR or LF in a header, conflicting framing headers) or what the server cuts off mid-request.
 */
export function sendRaw(base: string, head: string, body: Buffer | string = ''): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(url.port), url.hostname);
    const finish = () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      if (split < 0)
        return reject(new Error(`no HTTP response on the wire: ${JSON.stringify(raw.slice(0, 200))}`));
      const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n');
      const headers: http.IncomingHttpHeaders = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'set-cookie') headers['set-cookie'] = [...(headers['set-cookie'] ?? []), value];
        else headers[name] = value;
      }
      resolve(toReply(Number(statusLine.split(' ')[1]), headers, raw.slice(split + 4)));
    };
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', finish);
    // The server may answer and close while the rest of an oversized request is still being written.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]));
  });
}

/** A raw GET of `path` with `extraHeaders` (each `Name: value`, sent verbatim). */
export function rawGet(base: string, path: string, extraHeaders: string[] = []): Promise<Reply> {
  const host = new URL(base).host;
  return sendRaw(
    base,
    [`GET ${path} HTTP/1.1`, `Host: ${host}`, ...extraHeaders, 'Connection: close', '', ''].join('\r\n'),
  );
}

/** The `name=value` of the session cookie a response sets, if any. */
export function sessionCookieOf(reply: Reply): string | undefined {
  return sessionCookieIn(reply.headers['set-cookie']);
}

/** A browser that approved in the widget but has not come back to /callback yet: its cookie and the widget's return. */
export type ApprovedFlow = WidgetReturn & { cookie: string };

/** The applicant starts (with `headers`) and approves: the flow as hostile requests and corpus rows use it. */
export async function approvedBy(
  applicant: Applicant,
  headers: Record<string, string> = {},
): Promise<ApprovedFlow> {
  const back = await applicant.startAndApprove('', headers);
  return { ...back, cookie: applicant.session };
}

type Redis = Awaited<ReturnType<typeof inspectRedis>>;

/** Every key under the prefix with its value, except rate-limit counters (they hold no user data). */
export async function snapshotRedis(redis: Redis, prefix: string): Promise<Record<string, string | null>> {
  const keys = (await redis.keysUnder(prefix)).filter((k) => !k.includes(':rl:'));
  const values = keys.length > 0 ? await redis.mGet(keys) : [];
  return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? null]));
}

/** The forms a reflected value could take in a body or header: as is, URL-encoded, JSON-escaped. */
function reflectedForms(payload: string): string[] {
  const forms = [
    payload,
    encodeURIComponent(payload),
    new URLSearchParams({ p: payload }).toString().slice(2),
    JSON.stringify(payload).slice(1, -1),
  ];
  return [...new Set(forms.map((f) => f.toLowerCase()))];
}

/** Fails when the body or any header carries one of the payloads in any of its usual encodings. */
export function expectNotEchoed(reply: Reply, payloads: string[]): void {
  const headerText = Object.entries(reply.headers)
    .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join('\n') : String(value)}`)
    .join('\n');
  const haystack = `${headerText}\n\n${reply.text}`.toLowerCase();
  for (const payload of payloads) {
    for (const form of reflectedForms(payload)) {
      if (haystack.includes(form))
        throw new Error(
          `the response echoes ${JSON.stringify(payload)} as ${JSON.stringify(form)}:\n${haystack.slice(0, 2000)}`,
        );
    }
  }
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type Expectation =
  /** Our JSON error shape, with a request id. */
  | { json: number; code: string }
  /** Answered by the HTTP server before the app: same shape, request id null. */
  | { protocol: number; code: string }
  /** GET /callback and navigations to /verification/start: only ever the configured return URL, `/?verification=failed&reason=<code>`. */
  | { returnTo: string }
  /** The hostile part is ignored and the request answered normally; it still changes nothing. */
  | { ok: number };

/** What a row expects, for its test title: "302 reason=invalid_callback", "400 invalid_iban". */
export function describeExpectation(expected: Expectation): string {
  if ('returnTo' in expected) return `302 reason=${expected.returnTo}`;
  if ('ok' in expected) return `${expected.ok}, the hostile part ignored`;
  if ('protocol' in expected) return `${expected.protocol} ${expected.code} from the HTTP server`;
  return `${expected.json} ${expected.code}`;
}

/** Asserts the answer a hostile request must get: our JSON error shape, a safe redirect, or a normal answer. */
export function expectAnswer(reply: Reply, expected: Expectation): void {
  const context = `${reply.status} ${JSON.stringify(reply.headers.location ?? '')} ${reply.text.slice(0, 300)}`;
  if ('returnTo' in expected) {
    expect({ status: reply.status, location: reply.headers.location }).toEqual({
      status: 302,
      location: `/?verification=failed&reason=${expected.returnTo}`,
    });
    return;
  }
  if ('ok' in expected) {
    expect(reply.status).toBe(expected.ok);
    expect(reply.headers.location).toBeUndefined();
    if (reply.json !== undefined) expect(reply.json).not.toHaveProperty('error.code');
    return;
  }
  const status = 'json' in expected ? expected.json : expected.protocol;
  expect([reply.status, context]).toEqual([status, context]);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(reply.headers.location).toBeUndefined();
  const requestId = 'json' in expected ? reply.headers['x-request-id'] : null;
  expect(reply.json).toEqual({ error: { code: expected.code, message: expect.any(String), requestId } });
}
