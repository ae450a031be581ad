import { readFileSync } from 'node:fs';
import path from 'node:path';

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
});
