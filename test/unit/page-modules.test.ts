import { formatters } from '../../public/js/format.js';
import { reportFigures } from '../../public/js/report.js';
import { checkIban, retryAfterSeconds, safeCode, sumAverages } from '../../public/js/values.js';
import { callbackQueryOf, widgetUrlOf } from '../../public/js/widget.js';

// The demo page's pure modules, in Node: what they compute without a browser.
const headers = (retryAfter?: string) =>
  new Headers(retryAfter === undefined ? {} : { 'Retry-After': retryAfter });

describe('values.js', () => {
  it('reads Retry-After as seconds or a date, within 0.5 to 10 s', () => {
    expect(retryAfterSeconds(headers('3'))).toBe(3);
    expect(retryAfterSeconds(headers('0'))).toBe(0.5);
    expect(retryAfterSeconds(headers('3600'))).toBe(10);
    expect(
      retryAfterSeconds(
        headers(new Date(Date.UTC(2026, 0, 1, 0, 0, 4)).toUTCString()),
        2,
        Date.UTC(2026, 0, 1),
      ),
    ).toBe(4);
    expect(retryAfterSeconds(headers())).toBe(2);
    expect(retryAfterSeconds(headers(), null)).toBeNull();
  });

  it('checks an IBAN the way a person types it, naming what is wrong', () => {
    expect(checkIban(' de89 3704 0044 0532 0130 00 ')).toEqual({ iban: 'DE89370400440532013000' });
    expect(checkIban('')).toEqual({ iban: '' });
    expect(checkIban('89370400')).toEqual({ problem: 'iban.country' });
    expect(checkIban('DEXX3704')).toEqual({ problem: 'iban.check' });
    expect(checkIban('DE89-3704-0044')).toEqual({ problem: 'iban.chars' });
    expect(checkIban('DE8937040044')).toEqual({ problem: 'iban.length', n: 12 });
  });

  it('keeps only codes fit to look up, and sums expense averages to the cent', () => {
    expect(safeCode('REPORT_TIMEOUT')).toBe('report_timeout');
    expect(safeCode('<script>')).toBeNull();
    expect(sumAverages([{ summary: { average: 0.1 } }, { summary: { average: 0.2 } }])).toBe(0.3);
    expect(sumAverages([{}])).toBeNull();
    expect(sumAverages([])).toBe(0);
  });
});

describe('format.js', () => {
  it('formats money, shares and months for the locale', () => {
    const de = formatters('de');
    const en = formatters('en');
    expect(de.money(2850.5)).toMatch(/^2\.850,50\s€$/);
    expect(en.money(2850.5)).toBe('€2,850.50');
    expect(de.percent(0.675)).toMatch(/^67,5\s%$/);
    expect(de.month('2024-06-28')).toBe('Juni 2024');
    expect(en.month('2024-06-28')).toBe('June 2024');
    expect(en.month('not a date')).toBeNull();
  });
});

describe('widget.js', () => {
  it('reads both documented message shapes, flags as strings or booleans, and nothing else', () => {
    expect(
      callbackQueryOf({ location: 'x', query: { state: 's', success: true, code: 'c', extra: 'x' } }),
    ).toEqual({
      state: 's',
      success: 'true',
      code: 'c',
    });
    expect(callbackQueryOf(JSON.stringify({ link: 'x', query: { state: 's', abort: 'true' } }))).toEqual({
      state: 's',
      abort: 'true',
    });
    expect(callbackQueryOf({ query: { code: 'c' } })).toBeNull();
    expect(callbackQueryOf('not json')).toBeNull();
  });

  it('takes a widget URL only over http(s), with the origins its messages may come from', () => {
    expect(
      widgetUrlOf(
        { location: 'https://w.example/a?x=1', widgetOrigins: ['https://v.example', 7] },
        'http://localhost/',
      ),
    ).toEqual({
      href: 'https://w.example/a?x=1',
      origins: ['https://w.example', 'https://v.example'],
    });
    expect(widgetUrlOf({ location: 'javascript:alert(1)' }, 'http://localhost/')).toBeNull();
  });
});

describe('report.js', () => {
  it('reads the figures defensively: any field may be absent', () => {
    expect(reportFigures({})).toMatchObject({ period: null, income: null, regular: null, partner: null });
    const f = reportFigures({
      period: 12,
      income: {
        summary: { average: 2850, low: 2750, high: 3100 },
        primary: { payment_partner: 'Acme GmbH' },
      },
      regular_expenses: [{ summary: { average: 900 } }],
      disposable_income: { average: 1920.3, ratio: 0.67 },
    });
    expect(f).toMatchObject({
      period: 12,
      income: 2850,
      low: 2750,
      regular: 900,
      ratio: 0.67,
      partner: 'Acme GmbH',
    });
  });
});
