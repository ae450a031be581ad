import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultSandboxOptions } from '../../src/sandbox/sandbox-server';

const read = (file: string) => readFileSync(path.join(__dirname, '../..', file), 'utf8');

describe('README', () => {
  it('documents every variable .env.example lists (and so every variable the config reads)', () => {
    const readme = read('README.md');
    const variables = [...read('.env.example').matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map(
      (m) => m[1] as string,
    );
    expect(variables.length).toBeGreaterThan(40);
    expect(variables.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it('shows the same client snippet as public/client-snippet.js', () => {
    const snippet = read('public/client-snippet.js');
    const firstLine = snippet.split('\n').find((l) => l.startsWith('async function verifyIncome')) as string;
    expect(read('README.md')).toContain(firstLine);
  });

  it("states the start route's policy for requests without Fetch Metadata (older browsers)", () => {
    expect(read('README.md')).toMatch(
      /`GET \/verification\/start` without Fetch Metadata[^\n]*\n[^\n]*allowed/,
    );
  });

  it('lists every sandbox provider variant in its "Provider variants" section', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Provider variants'));
    for (const name of Object.keys(defaultSandboxOptions.variants)) expect(section).toContain(`\`${name}`);
  });
});
