import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LOCALES, MESSAGES, localeFor, translator } from '../../public/js/messages.js';
import { ERROR_CODES, NOT_SENT_TO_THE_PAGE } from '../../src/errors';
import { OUTCOME_MESSAGES } from '../../src/verification/outcomes';

// The demo page has a text for every code the server can send it, and for nothing else, in every
// language: a code without a text shows a generic message, a text without a code is dead weight.
const JS_DIR = path.resolve(__dirname, '../../public/js');
const pageSource = readdirSync(JS_DIR)
  .filter((f) => f.endsWith('.js'))
  .map((f) => readFileSync(path.join(JS_DIR, f), 'utf8'))
  .join('\n');
// The page's own codes: errors it raises itself with a text from the table.
const ownCodes = [...pageSource.matchAll(/new ApiError\('([a-z_]+)', t\.error\('\1'\)/g)].map(
  (m) => m[1] as string,
);
const serverCodes = [
  ...ERROR_CODES.filter((code) => !NOT_SENT_TO_THE_PAGE.has(code)),
  ...Object.keys(OUTCOME_MESSAGES),
];

describe("the demo page's messages", () => {
  it('are in German and English', () => {
    expect(LOCALES.sort()).toEqual(['de', 'en']);
    expect(new Set(ownCodes)).toEqual(new Set(['network_error', 'popup_blocked', 'invalid_response']));
  });

  it.each(['de', 'en'])('%s: a text for every code the server can send to the page', (locale) => {
    const errors = Object.keys(MESSAGES[locale as 'de' | 'en'].errors);
    expect(serverCodes.filter((code) => !errors.includes(code))).toEqual([]);
  });

  it.each(['de', 'en'])('%s: no text for a code nobody sends', (locale) => {
    const known = new Set([...serverCodes, ...ownCodes]);
    expect(Object.keys(MESSAGES[locale as 'de' | 'en'].errors).filter((code) => !known.has(code))).toEqual(
      [],
    );
  });

  it('German has every text English has, and no other', () => {
    const keys = (locale: 'de' | 'en') => Object.keys(MESSAGES[locale]).sort();
    expect(keys('de')).toEqual(keys('en'));
  });

  it('every text the page asks for by key exists', () => {
    const html = readFileSync(path.resolve(__dirname, '../../public/index.html'), 'utf8');
    const asked = [
      ...[...html.matchAll(/data-i18n(?:-label)?="([^"]+)"/g)].map((m) => m[1] as string),
      ...[...pageSource.matchAll(/\bt\('([a-z][\w.]*)'/g)].map((m) => m[1] as string),
    ];
    expect(asked.length).toBeGreaterThan(40);
    expect([...new Set(asked)].filter((key) => !(key in MESSAGES.en))).toEqual([]);
  });
});

describe('translator', () => {
  it('follows the widget language where the page has texts, else English', () => {
    expect(localeFor('de-AT')).toBe('de');
    expect(localeFor('fr')).toBe('en');
    expect(localeFor(undefined)).toBe('en');
  });

  it('fills placeholders and finds error texts by code, in the locale', () => {
    const de = translator('de');
    expect(de('report.period', { n: 12 })).toBe('Auf Basis der letzten 12 Monate');
    expect(de.error('report_timeout')).toMatch(/zu lange/);
    expect(translator('en').error('report_timeout')).toMatch(/too long/);
    expect(de.error('no_such_code')).toBeNull();
    expect(de.error('__proto__')).toBeNull();
  });
});
