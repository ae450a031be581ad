// The income report: figures, an accessible table and a bar chart (SVG), all in the page's locale.
import { $, svgEl } from './dom.js';
import { num, obj, str, sumAverages } from './values.js';

/** The figures the page shows, read defensively from the provider's report (any field may be absent). */
export function reportFigures(report) {
  const income = obj(report.income);
  const summary = obj(income && income.summary);
  const disposable = obj(report.disposable_income);
  const discretionary = obj(report.discretionary_income);
  const primary = obj(income && income.primary);
  return {
    period: num(report.period),
    income: num(summary && summary.average),
    total: num(summary && summary.total),
    low: num(summary && summary.low),
    high: num(summary && summary.high),
    regular: sumAverages(report.regular_expenses),
    variable: sumAverages(report.variable_expenses),
    disposable: num(disposable && disposable.average),
    discretionary: num(discretionary && discretionary.average),
    ratio: num(disposable && disposable.ratio),
    partner: str(primary && primary.payment_partner),
    category: str(obj(primary && primary.category) && primary.category.name),
    since: primary ? primary.first_booked_on : null,
  };
}

/** Fills the report view; returns the chart rows (drawn by drawChart once the view is visible). */
export function fillReport(report, t, fmt) {
  const f = reportFigures(report);
  const periodNode = $('report-period');
  periodNode.textContent =
    f.period === null
      ? t('report.period.unknown')
      : f.period === 1
        ? t('report.period.one')
        : t('report.period', { n: f.period });
  setDataValue(periodNode, f.period);

  setFigure('income-average', f.income, fmt.money);
  setFigure('income-total', f.total, fmt.money);
  setFigure('regular-expenses-average', f.regular, fmt.money);
  setFigure('variable-expenses-average', f.variable, fmt.money);
  setFigure('disposable-average', f.disposable, fmt.money);
  setFigure('discretionary-average', f.discretionary, fmt.money);
  setFigure('disposable-ratio', f.ratio, fmt.percent);

  $('income-range').textContent =
    f.low !== null && f.high !== null
      ? t('report.range', { low: fmt.money(f.low), high: fmt.money(f.high) })
      : '';

  const source = $('primary-source');
  source.textContent = [f.partner, f.category].filter(Boolean).join(' · ') || '—';
  if (f.partner) source.dataset.value = f.partner;
  else source.removeAttribute('data-value');
  if (f.category) source.dataset.category = f.category;
  else source.removeAttribute('data-category');
  const since = fmt.month(f.since);
  $('primary-since').textContent = since ? t('report.since', { month: since }) : '';

  const rows = [
    { label: t('row.income'), value: f.income, cls: 'bar-income' },
    { label: t('row.regular'), value: f.regular, cls: 'bar-regular' },
    { label: t('row.variable'), value: f.variable, cls: 'bar-variable' },
    { label: t('row.disposable'), value: f.disposable, cls: 'bar-disposable' },
    { label: t('row.discretionary'), value: f.discretionary, cls: 'bar-discretionary' },
  ];
  renderTable(rows, t, fmt);
  return rows;
}

function setFigure(id, value, format) {
  const node = $(id);
  node.textContent = value === null ? '—' : format(value);
  setDataValue(node, value);
}

function setDataValue(node, value) {
  if (value === null) node.removeAttribute('data-value');
  else node.dataset.value = String(value);
}

function renderTable(rows, t, fmt) {
  $('report-table-body').replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = row.label;
      const td = document.createElement('td');
      td.textContent = row.value === null ? t('notAvailable') : fmt.money(row.value);
      tr.append(th, td);
      return tr;
    }),
  );
}

/** Draws the bar chart for the host's width; returns the width drawn (0: not visible, nothing drawn). */
export function drawChart(rows, drawnWidth, t, fmt) {
  const host = $('report-chart');
  if (!rows || host.offsetParent === null) return 0;
  const width = Math.max(240, Math.floor(host.clientWidth));
  if (width === drawnWidth) return width;

  const rowHeight = 54;
  const barHeight = 16;
  const height = rows.length * rowHeight;
  const values = rows.map((r) => r.value).filter((v) => v !== null);
  const min = Math.min(0, ...values);
  const max = Math.max(0, ...values);
  const range = max - min || 1;
  const scale = (v) => ((v - min) / range) * width;
  const zeroX = scale(0);
  const shown = (value) => (value === null ? t('notAvailable') : fmt.money(value));

  const svg = svgEl('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-labelledby': 'chart-title chart-desc',
    class: 'chart-svg',
  });
  svg.append(
    svgEl('title', { id: 'chart-title' }, t('chart.title')),
    svgEl(
      'desc',
      { id: 'chart-desc' },
      t('chart.desc', { rows: rows.map((r) => `${r.label}: ${shown(r.value)}`).join('; ') }),
    ),
  );
  rows.forEach((row, i) => {
    const top = i * rowHeight;
    const barY = top + 26;
    const g = svgEl('g', { class: 'chart-row' });
    g.append(
      svgEl('text', { x: 0, y: top + 16, class: 'chart-label' }, row.label),
      svgEl(
        'text',
        { x: width, y: top + 16, 'text-anchor': 'end', class: 'chart-value' },
        row.value === null ? '—' : fmt.money(row.value),
      ),
      svgEl('rect', { x: 0, y: barY, width, height: barHeight, rx: 4, class: 'chart-track' }),
    );
    if (row.value !== null && row.value !== 0) {
      const x = Math.min(scale(row.value), zeroX);
      const w = Math.max(2, Math.abs(scale(row.value) - zeroX));
      g.append(
        svgEl('rect', {
          x: x.toFixed(1),
          y: barY,
          width: w.toFixed(1),
          height: barHeight,
          rx: 4,
          class: `chart-bar ${row.cls}${row.value < 0 ? ' bar-negative' : ''}`,
        }),
      );
    }
    if (min < 0) {
      g.append(
        svgEl('line', { x1: zeroX, x2: zeroX, y1: barY - 3, y2: barY + barHeight + 3, class: 'chart-zero' }),
      );
    }
    svg.append(g);
  });
  host.replaceChildren(svg);
  return width;
}
