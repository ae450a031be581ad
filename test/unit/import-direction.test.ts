import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../..');

/** Lines refused by no-restricted-imports when `text` is linted as if it were `filePath` (the real CLI and config). */
async function refusedLines(text: string, filePath: string): Promise<number[]> {
  const run = promisify(execFile)(
    path.join(ROOT, 'node_modules/.bin/eslint'),
    ['--stdin', '--stdin-filename', filePath, '--format', 'json'],
    { cwd: ROOT },
  );
  run.child.stdin?.end(text);
  // eslint exits 1 when it finds problems; its JSON is on stdout either way.
  const { stdout } = await run.catch((err: { stdout: string }) => ({ stdout: err.stdout }));
  const [result] = JSON.parse(stdout) as Array<{ messages: Array<{ ruleId: string; line: number }> }>;
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.line);
}

// `npm run lint` holds the direction of the layers; this proves the rule is there and bites.
describe('the import direction (eslint no-restricted-imports)', () => {
  jest.setTimeout(30_000);
  const probe = [
    "import type { Config } from '../config';",
    "import { Router } from 'express';",
    "import session from 'express-session';",
    "import { parseInput } from '../http/input-schemas';",
    'export type Probe = [Config, typeof Router, typeof session, typeof parseInput];',
    '',
  ].join('\n');

  it.each(['src/verification', 'src/tokens', 'src/provider', 'src/storage'])(
    '%s may not import express, express-session, src/http or config',
    async (dir) => {
      expect(await refusedLines(probe, `${dir}/probe.ts`)).toEqual([1, 2, 3, 4]);
    },
  );

  it('src/http may (it is the layer that translates HTTP into domain calls)', async () => {
    expect(await refusedLines(probe, 'src/http/probe.ts')).toEqual([]);
  });

  it('src/http may not import the verification deps bag or storage: it is handed what it uses', async () => {
    const reachThrough = [
      "import type { VerificationDeps } from '../verification/verification-deps';",
      "import type { KeyValueStore } from '../storage/key-value-store';",
      "import type { BrowserVerifications } from '../verification/browser-verifications';",
      'export type Probe = [VerificationDeps, KeyValueStore, BrowserVerifications];',
      '',
    ].join('\n');
    expect(await refusedLines(reachThrough, 'src/http/probe.ts')).toEqual([1, 2]);
  });
});
