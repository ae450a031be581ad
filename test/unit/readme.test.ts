import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultSandboxOptions } from '../../src/sandbox/sandbox-server';
import { envSchema } from '../../src/config';
import { documentedGroups, envExampleText, readmeRows } from '../../scripts/config-docs';

const read = (file: string) => readFileSync(path.join(__dirname, '../..', file), 'utf8');

describe('README', () => {
  it('documents every variable with the description of its entry, in the order of the entries', () => {
    const documented = documentedGroups().flatMap(([, entries]) => entries.map(([name, e]) => [name, e.doc]));
    expect(documented.length).toBeGreaterThan(60);
    expect(readmeRows(read('README.md'))).toEqual(documented);
    // …and every variable the server and the sandbox read has an entry.
    expect(documented.map(([name]) => name).sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  it('.env.example is what `npm run docs:config` writes from the entries', () => {
    expect(read('.env.example')).toBe(envExampleText());
  });

  it('shows the same client snippet as public/client-snippet.js', () => {
    const snippet = read('public/client-snippet.js');
    const firstLine = snippet.split('\n').find((l) => l.startsWith('async function verifyIncome')) as string;
    expect(read('README.md')).toContain(firstLine);
  });

  it("docs/design.md states the start route's policy for requests without Fetch Metadata (older browsers)", () => {
    expect(read('docs/design.md')).toMatch(
      /`GET \/verification\/start` without Fetch Metadata[^\n]*\n[^\n]*allowed/,
    );
  });

  it('docs/finx-api.md lists every sandbox provider variant in its "Provider variants" section', () => {
    const readme = read('docs/finx-api.md');
    const section = readme.slice(readme.indexOf('## Provider variants'));
    for (const name of Object.keys(defaultSandboxOptions.variants)) expect(section).toContain(`\`${name}`);
  });
});
