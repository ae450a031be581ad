import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('loadConfig', () => {
  it('with nothing set gives the embedded development setup, with loud warnings', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.provider.baseUrl).toBeUndefined();
    expect(config.sandbox?.port).toBe(4010);
    expect(config.redis).toBeUndefined();
    expect(config.redirectUri).toBe('http://localhost:3000/callback');
    expect(config.session.cookieName).toBe('bff.sid');
    expect(config.warnings.join('\n')).toMatch(/REDIS_URL is not set/);
    expect(config.warnings.join('\n')).toMatch(/TOKEN_ENCRYPTION_KEY is not set/);
  });

  it('in production refuses to start without Redis, secrets, finX credentials and https, listing every problem at once', () => {
    const problems = problemsOf({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'http://bff.example' });
    for (const name of [
      'PUBLIC_BASE_URL',
      'FINX_API_URL',
      'FINX_CLIENT_ID',
      'REDIS_URL',
      'SESSION_SECRET',
      'TOKEN_ENCRYPTION_KEY',
    ]) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
  });

  it('in production takes a complete configuration; the cookie gets the __Host- prefix over https', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: 'https://bff.example/income',
      FINX_API_URL: 'https://api.finx-s.qwist.cloud/',
      FINX_CLIENT_ID: 'id',
      FINX_CLIENT_SECRET: 'secret',
      REDIS_URL: 'redis://redis:6379',
      SESSION_SECRET: 'x'.repeat(32),
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      METRICS_TOKEN: 'm'.repeat(16),
    });
    expect(config.session).toMatchObject({ cookieName: '__Host-bff.sid', secureCookie: true });
    expect(config.redirectUri).toBe('https://bff.example/income/callback');
    expect(config.provider.baseUrl).toBe('https://api.finx-s.qwist.cloud');
    expect(config.provider.widgetAllowedOrigins).toContain('https://widget.qwist.cloud');
    expect(config.metrics).toEqual({ enabled: true, token: 'm'.repeat(16) });
    expect(config.warnings).toEqual([]);
  });

  it('refuses a plain-http provider URL in production', () => {
    expect(problemsOf({ NODE_ENV: 'production', FINX_API_URL: 'http://finx.example' })).toContainEqual(
      expect.stringMatching(/^FINX_API_URL: must be https/),
    );
  });

  it('ongoing access: 90 days and a 30-day keep-alive by default; no more than 90 days; a keep-alive not below the inactivity limit is refused', () => {
    expect(loadConfig({}).ongoing).toEqual({ maxAccessMs: 90 * 86400_000, keepaliveMs: 30 * 86400_000 });
    expect(loadConfig({ ONGOING_ACCESS_MAX_DAYS: '30' }).ongoing.maxAccessMs).toBe(30 * 86400_000);
    expect(problemsOf({ ONGOING_ACCESS_MAX_DAYS: '91' }).join('\n')).toMatch(/ONGOING_ACCESS_MAX_DAYS/);
    expect(problemsOf({ ONGOING_KEEPALIVE_S: String(90 * 86400) }).join('\n')).toMatch(
      /ONGOING_KEEPALIVE_S: .* not below the provider's inactivity limit/,
    );
    // The embedded sandbox's refresh-token lifetime is its inactivity limit.
    expect(problemsOf({ ONGOING_KEEPALIVE_S: '10', SANDBOX_REFRESH_TOKEN_TTL_S: '10' }).join('\n')).toMatch(
      /ONGOING_KEEPALIVE_S: 10 s is not below the provider's inactivity limit \(10 s\)/,
    );
    expect(problemsOf({ ONGOING_KEEPALIVE_S: '9', SANDBOX_REFRESH_TOKEN_TTL_S: '10' })).toEqual([]);
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ PORT: '', LOG_LEVEL: '', FLOW_TTL_S: ' ', REDIS_KEY_PREFIX: '' });
    expect(config.port).toBe(3000);
    expect(config.logLevel).toBe('info');
    expect(config.flow.ttlS).toBe(1800);
    expect(config.keyPrefix).toBe('bff:');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ FLOW_TTL_S: '5' }, 'FLOW_TTL_S'],
    [{ TOKEN_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'TOKEN_ENCRYPTION_KEY'],
    [{ TOKEN_ENCRYPTION_PREVIOUS_KEYS: 'nocolon' }, 'TOKEN_ENCRYPTION_PREVIOUS_KEYS'],
    [{ SESSION_SECRET: 'short' }, 'SESSION_SECRET'],
    [{ RETURN_URL: '//evil.example' }, 'RETURN_URL'],
    [{ RETURN_URL: 'javascript:alert(1)' }, 'RETURN_URL'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
    [{ REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'b:1' }, 'REDIS_URL'],
    [{ REFRESH_LOCK_LEASE_MS: '5000', REFRESH_LOCK_WAIT_MS: '1000' }, 'REFRESH_LOCK_WAIT_MS'],
    [{ SANDBOX_REPORT_DELAY_MS: '-1' }, 'SANDBOX_REPORT_DELAY_MS'],
  ])('refuses %j naming %s', (env, name) => {
    expect(problemsOf(env as Record<string, string>).some((p) => p.startsWith(name))).toBe(true);
  });

  it.each([
    '/\\evil.example',
    '//evil.example',
    '/%5Cevil.example',
    '/%5c%5cevil.example',
    '%2F%2Fevil.example',
    '\\\\evil.example',
    'https://evil.example/',
    'HTTPS://evil.example',
  ])('refuses RETURN_URL %s, which leads off-origin (B12)', (value) => {
    expect(problemsOf({ RETURN_URL: value })).toContainEqual(expect.stringMatching(/^RETURN_URL: /));
  });

  it('takes RETURN_URL paths on the own origin and absolute URLs of ALLOWED_ORIGINS (B12)', () => {
    expect(loadConfig({ RETURN_URL: '/app?tab=income#top' }).returnUrl).toBe('/app?tab=income#top');
    expect(
      loadConfig({ RETURN_URL: 'https://app.example/done', ALLOWED_ORIGINS: 'https://app.example' })
        .returnUrl,
    ).toBe('https://app.example/done');
  });

  const production = {
    NODE_ENV: 'production',
    PUBLIC_BASE_URL: 'https://bff.example',
    FINX_API_URL: 'https://api.finx-s.qwist.cloud',
    FINX_CLIENT_ID: 'id',
    FINX_CLIENT_SECRET: 'secret-from-finx',
    REDIS_URL: 'redis://redis:6379',
    SESSION_SECRET: 'x'.repeat(32),
    TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  };

  it('compares URL schemes case-insensitively in production (B13)', () => {
    expect(problemsOf({ ...production, FINX_API_URL: 'HTTP://finx.example' })).toContainEqual(
      expect.stringMatching(/^FINX_API_URL: must be https/),
    );
    expect(problemsOf({ ...production, PUBLIC_BASE_URL: 'HTTP://bff.example' })).toContainEqual(
      expect.stringMatching(/^PUBLIC_BASE_URL: must be an https URL/),
    );
    expect(problemsOf({ ...production, FINX_API_URL: 'HTTPS://api.finx-s.qwist.cloud' })).toEqual([]);
  });

  it('refuses in production, by name, every secret shipped in docker-compose.yml and .env.example (B13)', () => {
    const shipped = [
      ...readFileSync(path.join(__dirname, '../../docker-compose.yml'), 'utf8').matchAll(
        /(SESSION_SECRET|TOKEN_ENCRYPTION_KEY|FINX_CLIENT_SECRET|METRICS_TOKEN|SANDBOX_CLIENT_SECRET): \$\{\w+:-([^}]+)\}/g,
      ),
      ...readFileSync(path.join(__dirname, '../../.env.example'), 'utf8').matchAll(
        /^#?(SESSION_SECRET|TOKEN_ENCRYPTION_KEY|FINX_CLIENT_SECRET|METRICS_TOKEN|SANDBOX_CLIENT_SECRET)=(\S+)$/gm,
      ),
    ].map((m) => [
      m[1] === 'SANDBOX_CLIENT_SECRET' ? 'FINX_CLIENT_SECRET' : (m[1] as string),
      m[2] as string,
    ]);
    expect(shipped.length).toBeGreaterThanOrEqual(3);
    shipped.push(['FINX_CLIENT_SECRET', 'sandbox-secret-not-for-production']);
    for (const [name, value] of shipped) {
      expect([name, problemsOf({ ...production, [name as string]: value as string })]).toEqual([
        name,
        [expect.stringMatching(new RegExp(`^${name}: `))],
      ]);
    }
  });

  it('accepts the trust proxy forms Express knows', () => {
    for (const value of ['true', '1', 'loopback', '10.0.0.0/8, 192.168.1.1', 'loopback,uniquelocal']) {
      expect(problemsOf({ TRUST_PROXY: value })).toEqual([]);
    }
  });
});
