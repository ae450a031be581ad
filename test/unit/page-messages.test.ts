import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, NOT_SENT_TO_THE_PAGE } from '../../src/errors';
import { OUTCOME_MESSAGES } from '../../src/verification/outcomes';

// The demo page has a text for every code the server can send it, and for nothing else: a code
// without a text shows a generic message, a text without a code is dead weight that hides drift.
describe("the demo page's message table", () => {
  const app = readFileSync(path.resolve(__dirname, '../../public/app.js'), 'utf8');
  const table = /const ERROR_TEXT = \{\n([\s\S]*?)\n {2}\};/.exec(app)?.[1] ?? '';
  const pageKeys = [...table.matchAll(/^ {4}([a-z_]+):/gm)].map((m) => m[1] as string);
  // The page's own codes: errors it raises itself with a text from the table.
  const ownCodes = [...app.matchAll(/new ApiError\('([a-z_]+)', ERROR_TEXT\./g)].map((m) => m[1] as string);
  const serverCodes = [
    ...ERROR_CODES.filter((code) => !NOT_SENT_TO_THE_PAGE.has(code)),
    ...Object.keys(OUTCOME_MESSAGES),
  ];

  it('is found in public/app.js', () => {
    expect(pageKeys.length).toBeGreaterThan(20);
    expect(new Set(ownCodes)).toEqual(new Set(['network_error', 'popup_blocked', 'invalid_response']));
  });

  it('covers every code the server can send to the page', () => {
    expect(serverCodes.filter((code) => !pageKeys.includes(code))).toEqual([]);
  });

  it('has no text for a code nobody sends', () => {
    const known = new Set([...serverCodes, ...ownCodes]);
    expect(pageKeys.filter((key) => !known.has(key))).toEqual([]);
  });

  it('has each code once', () => {
    expect(pageKeys.length).toBe(new Set(pageKeys).size);
  });
});
