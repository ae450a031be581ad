import type { LinkRecord } from './sandbox-state';

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that is safe inside a <script type="application/json"> block: nothing in it can close the element. */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function page(title: string, lang: string, body: string, head = ''): string {
  const dir = lang === 'ar' ? 'rtl' : 'ltr';
  return `<!doctype html>
<html lang="${escapeHtml(lang)}" dir="${dir}">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/widget.css">
${head}</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function formatIban(iban: string): string {
  const compact = iban.replace(/\s+/g, '');
  return /^[A-Z]{2}\d{2}[A-Z0-9]+$/i.test(compact) ? compact.replace(/(.{4})(?=.)/g, '$1 ') : iban;
}

const decisions = [
  { value: 'approve', label: 'Approve' },
  { value: 'cancel', label: 'Cancel' },
  { value: 'fail', label: 'Fail' },
] as const;

/** `completeAction`: where the decision is posted; another host imitates a widget that moves between hosts. */
export function widgetPage(
  widgetToken: string,
  link: LinkRecord,
  completeAction = '/widget/complete',
): string {
  const rows: [string, string][] = [];
  if (link.accounts.length > 0) {
    rows.push(['Bank', 'Sandbox Bank (preselected)']);
    for (const account of link.accounts) rows.push(['IBAN', formatIban(account)]);
  } else if (link.providerId) {
    rows.push(['Bank', `Provider ${link.providerId} (preselected)`]);
  } else {
    rows.push(['Bank', 'Sandbox Bank (bank picker skipped)']);
  }
  if (link.accountTypes.length > 0) rows.push(['Account types', link.accountTypes.join(', ')]);
  if (link.allowMultiSelection !== undefined)
    rows.push(['Multiple accounts', link.allowMultiSelection ? 'allowed' : 'not allowed']);
  rows.push(['Language', link.language]);
  rows.push(['Reporting period', `${link.periodMonths} months`]);

  const details = rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n');
  const forms = decisions
    .map(
      (d) => `<form method="post" action="${escapeHtml(completeAction)}" data-decision="${d.value}">
<input type="hidden" name="token" value="${escapeHtml(widgetToken)}">
<input type="hidden" name="decision" value="${d.value}">
<button type="submit" id="${d.value}">${d.label}</button>
</form>`,
    )
    .join('\n');
  return page(
    'finX sandbox',
    link.language,
    `<h1>finX sandbox</h1>
<p class="lead">A simulated bank connection: no real bank is contacted and no real data is shared.</p>
<dl>
${details}
</dl>
<div class="actions">
${forms}
</div>`,
    '<script src="/widget.js" defer></script>\n',
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, 'en', `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

/** The older `{ location, query, url }` with string flags, or the newer `{ link, query }` with booleans. */
export type CallbackMessage =
  | { location: string; query: Record<string, string>; url: string }
  | { link: string; query: Record<string, string | boolean> };

/** Iframe mode: the callback travels to the parent by postMessage; the data sits in an inert JSON block. */
export function embeddedDonePage(message: CallbackMessage): string {
  return page(
    'finX sandbox',
    'en',
    `<h1>finX sandbox</h1>
<p>Done. You can close this window.</p>
<script type="application/json" id="callback-data">${jsonForHtml(message)}</script>`,
    '<script src="/widget-embedded.js" defer></script>\n',
  );
}
