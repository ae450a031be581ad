/**
 * The naive baseline: the poll endpoint as a typical express-session app writes it. express-session
 * with its defaults (resave and saveUninitialized on: every request writes the session back),
 * connect-redis with touch on, the tokens kept in the session, and the report fetched from the
 * provider on every poll. It is what this project's design avoids; the benchmark shows the price.
 *
 * Environment: PORT, PUBLIC_BASE_URL, FINX_API_URL, FINX_CLIENT_ID, FINX_CLIENT_SECRET, REDIS_URL,
 * REDIS_KEY_PREFIX, SESSION_SECRET.
 */
import { randomBytes } from 'node:crypto';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { request } from 'undici';

declare module 'express-session' {
  interface SessionData {
    state: string;
    flowId: string;
    accessToken: string;
    refreshToken: string;
  }
}

const env = process.env;
const port = Number(env.PORT ?? 0);
const publicBaseUrl = env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`;
const providerUrl = env.FINX_API_URL ?? '';
const basic = `Basic ${Buffer.from(`${env.FINX_CLIENT_ID}:${env.FINX_CLIENT_SECRET}`).toString('base64')}`;
const redirectUri = `${publicBaseUrl}/callback`;

const redis = createClient({ url: env.REDIS_URL });
redis.on('error', (err: Error) => process.stderr.write(`redis: ${err.message}\n`));

const app = express();
app.use(
  session({
    store: new RedisStore({ client: redis, prefix: `${env.REDIS_KEY_PREFIX ?? 'naive:'}naive:sess:` }),
    secret: env.SESSION_SECRET ?? 'keyboard cat',
    // The defaults, spelled out (express-session warns when they are left implicit).
    resave: true,
    saveUninitialized: true,
  }),
);

app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});

app.get('/start', async (req, res) => {
  const state = randomBytes(16).toString('hex');
  const link = await request(`${providerUrl}/onetime/income-report`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uri: redirectUri, state }),
  });
  const body = (await link.body.json()) as { location: string; id: string };
  if (link.statusCode !== 201) throw new Error(`link answered ${link.statusCode}`);
  req.session.state = state;
  req.session.flowId = body.id;
  res.redirect(302, body.location);
});

app.get('/callback', async (req, res) => {
  if (typeof req.query.state !== 'string' || req.query.state !== req.session.state) {
    res.status(400).json({ error: 'invalid_state' });
    return;
  }
  const token = await request(`${providerUrl}/auth/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'authorization_code',
      code: req.query.code,
      redirect_uri: redirectUri,
    }),
  });
  const tokens = (await token.body.json()) as { access_token: string; refresh_token: string };
  if (token.statusCode !== 200) throw new Error(`token answered ${token.statusCode}`);
  delete req.session.state;
  req.session.accessToken = tokens.access_token;
  req.session.refreshToken = tokens.refresh_token;
  if (typeof req.query.flow_id === 'string') req.session.flowId = req.query.flow_id;
  res.redirect(302, '/?verification=completed');
});

app.get('/api/verification', async (req, res) => {
  if (!req.session.accessToken || !req.session.flowId) {
    res.json({ status: 'none', report: null, error: null });
    return;
  }
  const upstream = await request(
    `${providerUrl}/rest/income-reports/${encodeURIComponent(req.session.flowId)}`,
    {
      headers: { authorization: `Bearer ${req.session.accessToken}` },
    },
  );
  const report: unknown = await upstream.body.json();
  if (upstream.statusCode === 404) {
    res.json({ status: 'processing', report: null, error: null });
    return;
  }
  if (upstream.statusCode !== 200) {
    res.status(502).json({ status: 'failed', report: null, error: { code: 'provider_error' } });
    return;
  }
  res.setHeader('Cache-Control', 'no-store');
  res.json({ status: 'ready', report, error: null });
});

async function main(): Promise<void> {
  await redis.connect();
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const stop = () => {
    server.close();
    server.closeAllConnections();
    redis.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`naive server failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
