import { createLogger } from '../../src/logger';
import { LogCapture } from '../support/harness';

describe('log redaction (B15)', () => {
  const lines = (write: (logger: ReturnType<typeof createLogger>) => void) => {
    const capture = new LogCapture();
    write(createLogger('info', capture));
    return capture.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  };

  it('keeps error codes operators need', () => {
    const [line] = lines((log) => {
      log.error({ code: 'dependency_unavailable', err: { message: 'x' } }, 'request error');
    });
    expect(line).toMatchObject({ code: 'dependency_unavailable' });
  });

  it('keeps nested error codes (a provider error code, a child logger)', () => {
    const [line] = lines((log) => {
      log.child({ requestId: 'r1' }).warn({ provider: { code: 1002 } }, 'report not found');
    });
    expect(line).toMatchObject({ provider: { code: 1002 } });
  });

  it('blanks the OAuth code where it travels: a callback query or body', () => {
    const secret = 'oauth-code-secret-value';
    const text = JSON.stringify(
      lines((log) => {
        log.info({ query: { code: secret, state: 's' } }, 'callback');
        log.info({ req: { query: { code: secret } }, body: { code: secret } }, 'callback');
        log.info({ params: { code: secret }, authorizationCode: secret }, 'exchange');
      }),
    );
    expect(text).not.toContain(secret);
  });
});

describe('error log lines', () => {
  it('keep the stack and the cause chain, with queries stripped', () => {
    const capture = new LogCapture();
    const root = new Error('connect ECONNREFUSED https://finx.example/token?code=secret-code');
    (root as Error & { code: string }).code = 'ECONNREFUSED';
    const err = new Error('token exchange failed', { cause: root });
    Object.assign(err, { responseBody: 'access_token=never-logged' });
    createLogger('info', capture).error({ err }, 'request error');
    const line = JSON.parse(capture.lines[0] as string) as {
      err: {
        type: string;
        message: string;
        stack: string;
        cause: { code: string; message: string; stack: string };
      };
    };
    expect(line.err.type).toBe('Error');
    expect(line.err.stack).toContain('logger.test.ts');
    expect(line.err.cause.code).toBe('ECONNREFUSED');
    expect(line.err.cause.message).toContain('?[redacted]');
    expect(capture.lines[0]).not.toContain('secret-code');
    expect(capture.lines[0]).not.toContain('never-logged');
  });
});
