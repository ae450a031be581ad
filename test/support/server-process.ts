import { freePort, startChild, type Child } from '../../bench/processes';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { KEY_A } from '../integrator/integrator-support';
import { testServerEnv } from './harness';

/**
 * The server as a real child process (`src/server.ts`), for tests that kill it with SIGKILL: work
 * must then be found in Redis, not in a process. Integrator API on with KEY_A, fast report jobs.
 */
export async function startServerProcess(options: {
  name: string;
  redisUrl: string;
  sandbox: Sandbox;
  env?: Record<string, string>;
}): Promise<Child> {
  const port = await freePort();
  return startChild({
    name: options.name,
    file: 'src/server.ts',
    port,
    readyPath: '/readyz',
    env: {
      ...testServerEnv(`http://127.0.0.1:${port}`, options.sandbox.url),
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: options.redisUrl,
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
      INTEGRATOR_API_KEYS: KEY_A,
      JOBS_STALLED_AFTER_MS: '2000',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
}

/** A call to the integrator API of a child server, with KEY_A. */
export const integratorCall = (base: string, path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${base}/integrator/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
  });
