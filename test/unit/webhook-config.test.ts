import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { ConfigError, loadConfig, retryWindowMs } from '../../src/config';
import { createWebhookClient, isPublicAddress } from '../../src/integrator/webhook-client';

const SECRET = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_BASE_URL: 'https://bff.example',
  FINX_API_URL: 'https://api.finx-s.qwist.cloud',
  FINX_CLIENT_ID: 'id',
  FINX_CLIENT_SECRET: 'secret',
  REDIS_URL: 'redis://redis:6379',
  SESSION_SECRET: 'x'.repeat(32),
  TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  METRICS_TOKEN: 'm'.repeat(16),
};
const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('webhook configuration', () => {
  it('is off without WEBHOOK_URL; with it, the default schedule is the specification’s and retention covers its window', () => {
    expect(loadConfig({}).webhooks.url).toBeUndefined();
    expect(loadConfig({}).retentionS).toBe(86400);
    const config = loadConfig({
      ...PRODUCTION,
      WEBHOOK_URL: 'https://lender.example/hooks',
      WEBHOOK_SECRET: SECRET,
    });
    expect(config.webhooks.scheduleMs.map((ms) => ms / 1000)).toEqual([
      5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
    ]);
    expect(config.webhooks.timeoutMs).toBe(15000);
    expect(config.webhooks.allowPrivate).toBe(false);
    expect(config.retentionS * 1000).toBeGreaterThanOrEqual(retryWindowMs(config.webhooks));
    expect(config.retentionS).toBe(4 * 86400);
  });

  it('refuses a retention shorter than the retry window', () => {
    const problems = problemsOf({
      ...PRODUCTION,
      WEBHOOK_URL: 'https://lender.example/hooks',
      WEBHOOK_SECRET: SECRET,
      RETENTION_S: '86400',
    });
    expect(problems.join('\n')).toMatch(/RETENTION_S: 86400 s is shorter than the webhook retry window/);
    expect(
      problemsOf({
        WEBHOOK_URL: 'http://127.0.0.1:9/h',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_RETRY_SCHEDULE_S: '1,1,2',
        RETENTION_S: '120',
      }),
    ).toEqual([]);
  });

  it('in production refuses an http URL, a private or loopback address, credentials, and a missing or malformed secret', () => {
    expect(
      problemsOf({ ...PRODUCTION, WEBHOOK_URL: 'http://lender.example/hooks', WEBHOOK_SECRET: SECRET }),
    ).toEqual(['WEBHOOK_URL: must be https when NODE_ENV=production']);
    for (const host of [
      '127.0.0.1',
      '10.1.2.3',
      '169.254.169.254',
      'localhost',
      '[::1]',
      '[fd00:ec2::254]',
      '192.168.0.10',
    ])
      expect(
        problemsOf({ ...PRODUCTION, WEBHOOK_URL: `https://${host}/hooks`, WEBHOOK_SECRET: SECRET }).join(),
      ).toMatch(/WEBHOOK_URL: points to a loopback, private/);
    expect(
      problemsOf({
        ...PRODUCTION,
        WEBHOOK_URL: 'https://10.1.2.3/hooks',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_ALLOW_PRIVATE: 'true',
      }),
    ).toEqual([]);
    expect(
      problemsOf({
        ...PRODUCTION,
        WEBHOOK_URL: 'https://u:p@lender.example/h',
        WEBHOOK_SECRET: SECRET,
      }).join(),
    ).toMatch(/credentials/);
    expect(problemsOf({ ...PRODUCTION, WEBHOOK_URL: 'https://lender.example/h' }).join()).toMatch(
      /WEBHOOK_SECRET: required/,
    );
    expect(
      problemsOf({ ...PRODUCTION, WEBHOOK_URL: 'https://lender.example/h', WEBHOOK_SECRET: 'short' }).join(),
    ).toMatch(/WEBHOOK_SECRET: must be whsec_/);
    expect(
      problemsOf({
        ...PRODUCTION,
        WEBHOOK_URL: 'https://lender.example/h',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_PREVIOUS_SECRETS: 'nope',
      }).join(),
    ).toMatch(/WEBHOOK_PREVIOUS_SECRETS/);
    expect(problemsOf({ WEBHOOK_RETRY_SCHEDULE_S: '5,abc' }).join()).toMatch(/WEBHOOK_RETRY_SCHEDULE_S/);
  });

  it('knows which addresses are public', () => {
    for (const a of ['8.8.8.8', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'])
      expect(isPublicAddress(a)).toBe(true);
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.100.100.200',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '2002:7f00:1::1',
    ])
      expect(isPublicAddress(a)).toBe(false);
  });
});

describe('the delivery client checks the address at connect time', () => {
  let receiver: http.Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    receiver = http.createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('refuses a name that resolves to loopback, and an address literal, without sending anything', async () => {
    const client = createWebhookClient({ timeoutMs: 2000, allowPrivate: false });
    try {
      for (const host of ['localhost', os.hostname(), '127.0.0.1'].filter(Boolean)) {
        const outcome = await client.post(`http://${host}:${port}/hooks`, {}, Buffer.from('{}'));
        expect(outcome.kind).toBe('refused_address');
      }
      expect(hits).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('sends when private addresses are allowed, and does not follow redirects', async () => {
    const client = createWebhookClient({ timeoutMs: 2000, allowPrivate: true });
    try {
      expect(await client.post(`http://localhost:${port}/hooks`, {}, Buffer.from('{}'))).toMatchObject({
        kind: 'response',
        status: 200,
      });
      expect(hits).toBe(1);
    } finally {
      await client.close();
    }
  });
});
