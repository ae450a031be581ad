// Small DOM helpers. The page runs under a strict CSP: no inline code, no innerHTML; every node is
// built with createElement(NS) and every text set with textContent.

export const $ = (id) => document.getElementById(id);

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function setSmallPrint(id, text) {
  const node = $(id);
  node.textContent = text;
  node.hidden = !text;
}

/** Puts the texts of `t` into every element with data-i18n (text) or data-i18n-label (aria-label). */
export function translatePage(t) {
  document.documentElement.lang = t.locale;
  document.title = t('page.title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-label]'))
    node.setAttribute('aria-label', t(node.dataset.i18nLabel));
}
