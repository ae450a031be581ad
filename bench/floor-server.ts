/**
 * The floor: the least an answer to `GET /api/verification` for a ready verification can cost with
 * this data layout. Plain node:http and node-redis, no Express, no middleware. Per request it does
 * the same Redis work as the real server: verify the express-session cookie signature, GET the
 * session, then the server's own script that reads the verification meta and counts the poll
 * against the per-session poll limit (one EVAL), and answers the decrypted report body (cached
 * in-process by reportVersion; on a miss GET the sealed report and open it with the same cipher).
 *
 * It sets the same headers as the server (see `write`).
 *
 * Environment: PORT, REDIS_URL, REDIS_KEY_PREFIX, SESSION_SECRET, TOKEN_ENCRYPTION_KEY,
 * TOKEN_ENCRYPTION_KEY_ID (default k1), COOKIE_NAME (default bff.sid), WIDGET_ALLOWED_ORIGINS.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { createClient } from 'redis';
import { securityHeaderList } from '../src/http/security-headers';
import { createEnvelopeCipher } from '../src/storage/envelope-cipher';
import { GET_AND_COUNT } from '../src/storage/redis-key-value-store';
import { createStorageKeys } from '../src/storage/storage-keys';
import { hashOf } from '../src/verification/flow-store';

const env = process.env;
const port = Number(env.PORT ?? 0);
const secret = env.SESSION_SECRET ?? '';
const cookieName = env.COOKIE_NAME ?? 'bff.sid';
const keys = createStorageKeys(env.REDIS_KEY_PREFIX ?? 'bff:');
const cipher = createEnvelopeCipher({
  id: env.TOKEN_ENCRYPTION_KEY_ID ?? 'k1',
  key: Buffer.from(env.TOKEN_ENCRYPTION_KEY ?? '', 'base64'),
});
if (!secret || !env.REDIS_URL) throw new Error('SESSION_SECRET and REDIS_URL are required');

const redis = createClient({ url: env.REDIS_URL });
redis.on('error', (err: Error) => process.stderr.write(`redis: ${err.message}\n`));

interface Answer {
  body: string;
  etag: string;
}
const readyBodies = new Map<string, { version: string; answer: Answer }>();
const CACHE_ENTRIES = 2000;

const answerOf = (status: string, report: string | null): Answer => {
  const body = `{"status":"${status}","report":${report ?? 'null'},"error":null}`;
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
};
const NONE = answerOf('none', null);

/** cookie-signature's unsign: `s:<sid>.<base64 HMAC-SHA256 without padding>`. */
function sessionIdOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (part.slice(0, eq).trim() !== cookieName) continue;
    const value = decodeURIComponent(part.slice(eq + 1).trim());
    if (!value.startsWith('s:')) return undefined;
    const signed = value.slice(2);
    const dot = signed.lastIndexOf('.');
    const sid = signed.slice(0, dot);
    const expected = Buffer.from(
      `${sid}.${createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '')}`,
    );
    const given = Buffer.from(signed);
    return expected.length === given.length && timingSafeEqual(expected, given) ? sid : undefined;
  }
  return undefined;
}

const ownerTags = new Map<string, string>();
const ownerTag = (owner: string): string => {
  let tag = ownerTags.get(owner);
  if (tag === undefined) {
    tag = hashOf(owner).slice(0, 22);
    if (ownerTags.size >= CACHE_ENTRIES) ownerTags.delete(ownerTags.keys().next().value as string);
    ownerTags.set(owner, tag);
  }
  return tag;
};

async function answer(req: http.IncomingMessage): Promise<Answer> {
  const sid = sessionIdOf(req.headers.cookie);
  if (!sid) return NONE;
  const session = await redis.get(`${keys.sessionPrefix}${sid}`);
  if (!session) return NONE;
  const { verificationId: id, owner } = JSON.parse(session) as { verificationId?: string; owner?: string };
  if (!id || !owner) return NONE;
  const [rawMeta] = (await redis.eval(GET_AND_COUNT, {
    keys: [keys.meta(id), keys.pollCount(id, ownerTag(owner))],
    arguments: ['60000'],
  })) as [string | null, number, number];
  if (!rawMeta) return answerOf('expired', null);
  const meta = JSON.parse(rawMeta) as { status: string; reportVersion?: string };
  if (meta.status !== 'ready') return answerOf(meta.status, null);
  const version = meta.reportVersion ?? '';
  const cached = readyBodies.get(id);
  if (cached && cached.version === version) return cached.answer;
  const sealed = await redis.get(keys.report(id));
  if (!sealed) return answerOf('expired', null);
  const ready = answerOf('ready', cipher.open(sealed, keys.report(id)));
  if (readyBodies.size >= CACHE_ENTRIES) readyBodies.delete(readyBodies.keys().next().value as string);
  readyBodies.set(id, { version, answer: ready });
  return ready;
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (req.method !== 'GET' || req.url !== '/api/verification') {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found"}}');
    return;
  }
  if (req.headers.prefer !== undefined) {
    hold(req, res).catch((err: unknown) => {
      process.stderr.write(`floor: ${(err as Error).message}\n`);
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal_error"}}');
    });
    return;
  }
  answer(req).then(
    (answered) => write(res, answered),
    (err: unknown) => {
      process.stderr.write(`floor: ${(err as Error).message}\n`);
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal_error"}}');
    },
  );
});

/**
 * The same header list as the server's answer: the security headers every answer carries (the
 * server's own list, built from the same settings), a request id, no-store, the ETag, type and
 * length. They are part of the answer, and an answer without them would be a cheaper answer, not
 * the same one made cheaper.
 */
const fixedHeaders = securityHeaderList({
  widgetOrigins: (env.WIDGET_ALLOWED_ORIGINS ?? '').split(',').filter(Boolean),
  https: false,
});
function write(res: http.ServerResponse, { body, etag }: Answer): void {
  const headers = fixedHeaders.slice();
  headers.push(
    'X-Request-Id',
    randomUUID(),
    'Cache-Control',
    'no-store',
    'ETag',
    etag,
    'Content-Type',
    'application/json; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
  );
  res.writeHead(200, headers).end(body);
}

/**
 * The floor of a held request (`Prefer: wait`, row 9): the session is read when the request comes
 * and the request is kept by verification id; a change message (the server's own channel and
 * format, `<id>\n<stored state>`) answers it: GET the sealed report, open it, build body and ETag,
 * write. No bounds, no timers, no session renewal: the least a wake-up costs with this data layout.
 */
const held = new Map<string, http.ServerResponse>();
async function hold(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const sid = sessionIdOf(req.headers.cookie);
  const session = sid ? await redis.get(`${keys.sessionPrefix}${sid}`) : null;
  const id = session ? (JSON.parse(session) as { verificationId?: string }).verificationId : undefined;
  if (!id) return write(res, NONE);
  held.set(id, res);
  res.once('close', () => held.get(id) === res && held.delete(id));
}

async function wake(message: string): Promise<void> {
  const nl = message.indexOf('\n');
  const id = nl < 0 ? message : message.slice(0, nl);
  const res = held.get(id);
  if (!res || nl < 0) return;
  const meta = JSON.parse(message.slice(nl + 1)) as { status: string };
  if (meta.status !== 'ready') return;
  held.delete(id);
  const sealed = await redis.get(keys.report(id));
  write(res, sealed ? answerOf('ready', cipher.open(sealed, keys.report(id))) : answerOf('expired', null));
}

async function main(): Promise<void> {
  await redis.connect();
  const subscriber = redis.duplicate();
  await subscriber.connect();
  await subscriber.subscribe(`${env.REDIS_KEY_PREFIX ?? 'bff:'}changes`, (message) => {
    wake(message).catch((err: unknown) => process.stderr.write(`floor: ${(err as Error).message}\n`));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const stop = () => {
    server.close();
    server.closeAllConnections();
    redis.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`floor server failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
