// Numbers and dates for people, in the page's locale (Intl): pure, no DOM.

const INTL_LOCALE = { de: 'de-DE', en: 'en-GB' };

export function formatters(locale) {
  const tag = INTL_LOCALE[locale] || locale;
  const money = new Intl.NumberFormat(tag, { style: 'currency', currency: 'EUR' });
  const percent = new Intl.NumberFormat(tag, { style: 'percent', maximumFractionDigits: 1 });
  const monthYear = new Intl.DateTimeFormat(tag, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  return {
    money: (value) => money.format(value),
    percent: (value) => percent.format(value),
    /** "2024-06-28" → "June 2024" / "Juni 2024"; null for anything else. */
    month(value) {
      const m = typeof value === 'string' && /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
      if (!m) return null;
      const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
      return Number.isNaN(date.getTime()) ? null : monthYear.format(date);
    },
  };
}
