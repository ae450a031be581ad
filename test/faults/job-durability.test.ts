import type { Child } from '../../bench/processes';
import type { Sandbox } from '../../src/sandbox/sandbox-server';
import { sleep, startTestSandbox } from '../support/harness';
import { integratorCall, startServerProcess } from '../support/server-process';
import { createPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { Applicant } from '../support/applicant';

// Real processes killed with SIGKILL: the report job must live in Redis, not in a process.
jest.setTimeout(90_000);

let sandbox: Sandbox;
let redis: PrivateRedis;
const children: Child[] = [];

beforeAll(async () => {
  sandbox = await startTestSandbox({ reportDelayMs: 3000 });
  redis = await createPrivateRedis();
  await redis.start();
});
afterAll(async () => {
  for (const child of children) await child.stop();
  redis.stop();
  redis.cleanup();
  await sandbox.close();
});

async function instance(): Promise<Child> {
  const child = await startServerProcess({ name: `server-${children.length}`, redisUrl: redis.url, sandbox });
  children.push(child);
  return child;
}

const api = integratorCall;

describe('the report job outlives every instance', () => {
  it('kill -9 of the only instance after the code exchange: a new instance finishes the job, no browser involved', async () => {
    const first = await instance();
    const made = (await (
      await api(first.url, '/verifications', { method: 'POST', body: '{"reference":"kill-1"}' })
    ).json()) as { id: string; start_url: string };
    const { flowId } = await new Applicant(first.url).completeFlow(made.start_url);
    // The report is not ready for 3 s: the job is waiting in Redis when the process dies.
    first.signal('SIGKILL');
    await sleep(3500);
    expect(sandbox.servedReport(flowId)).toBeUndefined();

    const second = await instance();
    const deadline = Date.now() + 20_000;
    let status = '';
    while (Date.now() < deadline) {
      status = ((await (await api(second.url, `/verifications/${made.id}`)).json()) as { status: string })
        .status;
      if (status !== 'processing') break;
      await sleep(100);
    }
    expect(status).toBe('ready');
    const report = await api(second.url, `/verifications/${made.id}/report`);
    expect(report.status).toBe(200);
    expect(await report.json()).toEqual(sandbox.servedReport(flowId));
  });
});
