import request from 'supertest';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import type { RuntimeOptions } from '../../src/server';
import { sleep, startTestServer, type TestServer } from '../support/harness';

export const KEY_A = 'key-a-' + 'a'.repeat(40);
export const KEY_B = 'key-b-' + 'b'.repeat(40);

export interface LenderServer extends TestServer {
  lender(key?: string): {
    post(path: string, body: unknown, headers?: Record<string, string>): request.Test;
    get(path: string): request.Test;
    delete(path: string): request.Test;
  };
}

/** A test server with the integrator API on (two keys, as during a rotation). */
export async function startLenderServer(
  sandbox: Sandbox,
  env: Record<string, string> = {},
  prefix?: string,
  runtime?: RuntimeOptions,
): Promise<LenderServer> {
  const server = await startTestServer({
    sandbox,
    env: { INTEGRATOR_API_KEYS: `${KEY_A},${KEY_B}`, ...env },
    ...(prefix ? { prefix } : {}),
    ...(runtime ? { runtime } : {}),
  });
  return Object.assign(server, {
    lender(key = KEY_A) {
      const auth = { authorization: `Bearer ${key}` };
      return {
        post: (path: string, body: unknown, headers: Record<string, string> = {}) =>
          request(server.url)
            .post(`/integrator/v1${path}`)
            .set({ ...auth, 'content-type': 'application/json', ...headers })
            .send(JSON.stringify(body)),
        get: (path: string) => request(server.url).get(`/integrator/v1${path}`).set(auth),
        delete: (path: string) => request(server.url).delete(`/integrator/v1${path}`).set(auth),
      };
    },
  });
}

/** Reads the verification through the API until it has one of these statuses. */
export async function lenderWaitsFor(
  server: LenderServer,
  id: string,
  statuses: string[],
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await server.lender().get(`/verifications/${id}`).expect(200);
    if (statuses.includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`still ${res.body.status} after ${timeoutMs} ms`);
    await sleep(50);
  }
}
