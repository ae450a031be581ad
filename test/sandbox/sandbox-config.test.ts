import { withoutBlanks } from '../../src/config/entry';
import {
  SANDBOX_DEV_CLIENT_ID,
  SANDBOX_DEV_CLIENT_SECRET,
  sandboxEnvSchema,
  sandboxOptionsFromEnv,
} from '../../src/sandbox/sandbox-config';
import { defaultSandboxOptions } from '../../src/sandbox/sandbox-server';

const dev = { clientId: SANDBOX_DEV_CLIENT_ID, clientSecret: SANDBOX_DEV_CLIENT_SECRET };

describe('sandboxEnvSchema', () => {
  it('gives the default options when nothing is set, and treats blank values as unset', () => {
    for (const env of [{}, { SANDBOX_PORT: '', SANDBOX_LATENCY_MS: ' ', SANDBOX_FRAME_ANCESTORS: '' }]) {
      // Blank values are dropped before parsing, by the same reader the server uses.
      const parsed = sandboxEnvSchema.parse(withoutBlanks(env));
      expect(parsed.SANDBOX_PORT).toBe(4010);
      expect(parsed.SANDBOX_HOST).toBeUndefined();
      expect(sandboxOptionsFromEnv(parsed, dev)).toEqual(defaultSandboxOptions);
    }
  });

  it('reads every variable', () => {
    const parsed = sandboxEnvSchema.parse({
      SANDBOX_PORT: '0',
      SANDBOX_HOST: '0.0.0.0',
      SANDBOX_PUBLIC_URL: 'http://localhost:4010',
      SANDBOX_ACCESS_TOKEN_TTL_S: '60',
      SANDBOX_REFRESH_TOKEN_TTL_S: '120',
      SANDBOX_CODE_TTL_S: '30',
      SANDBOX_REPORT_DELAY_MS: '0',
      SANDBOX_LATENCY_MS: '25',
      SANDBOX_FAIL_RATE_LINK: '0.1',
      SANDBOX_FAIL_RATE_TOKEN: '0.2',
      SANDBOX_FAIL_RATE_REPORT: '0.3',
      SANDBOX_FAIL_STATUS_LINK: '500',
      SANDBOX_FAIL_STATUS_TOKEN: '429',
      SANDBOX_FAIL_STATUS_REPORT: '504',
      SANDBOX_FRAME_ANCESTORS: 'https://app.example.com, http://localhost:*',
      SANDBOX_CLIENT_ID: 'id',
      SANDBOX_CLIENT_SECRET: 'secret',
    });
    expect(parsed).toMatchObject({
      SANDBOX_PORT: 0,
      SANDBOX_HOST: '0.0.0.0',
      SANDBOX_PUBLIC_URL: 'http://localhost:4010',
    });
    expect(sandboxOptionsFromEnv(parsed, dev)).toEqual({
      clientId: 'id',
      clientSecret: 'secret',
      accessTokenTtlS: 60,
      refreshTokenTtlS: 120,
      grantLifetimeS: defaultSandboxOptions.grantLifetimeS,
      codeTtlS: 30,
      reportDelayMs: 0,
      latencyMs: 25,
      newerReportEachFetch: false,
      faults: {
        link: { failureRate: 0.1, failureStatus: 500 },
        token: { failureRate: 0.2, failureStatus: 429 },
        report: { failureRate: 0.3, failureStatus: 504 },
      },
      frameAncestors: ['https://app.example.com', 'http://localhost:*'],
      variants: defaultSandboxOptions.variants,
    });
  });

  it('falls back to the given credentials', () => {
    const options = sandboxOptionsFromEnv(sandboxEnvSchema.parse({}), {
      clientId: 'server-id',
      clientSecret: 'server-secret',
    });
    expect(options).toMatchObject({ clientId: 'server-id', clientSecret: 'server-secret' });
  });

  it('lists every problem at once and rejects garbage numbers', () => {
    const result = sandboxEnvSchema.safeParse({
      SANDBOX_PORT: 'abc',
      SANDBOX_CODE_TTL_S: '1.5',
      SANDBOX_REPORT_DELAY_MS: '-1',
      SANDBOX_FAIL_RATE_TOKEN: '2',
      SANDBOX_FAIL_STATUS_REPORT: '200',
      SANDBOX_PUBLIC_URL: 'localhost:4010',
      SANDBOX_FRAME_ANCESTORS: "https://ok.example, https://x.example; script-src 'unsafe-inline'",
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path[0]).sort()).toEqual(
      [
        'SANDBOX_CODE_TTL_S',
        'SANDBOX_FAIL_RATE_TOKEN',
        'SANDBOX_FAIL_STATUS_REPORT',
        'SANDBOX_FRAME_ANCESTORS',
        'SANDBOX_PORT',
        'SANDBOX_PUBLIC_URL',
        'SANDBOX_REPORT_DELAY_MS',
      ].sort(),
    );
  });
});
