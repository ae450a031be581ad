import { randomUUID } from 'node:crypto';
import { buildIncomeReport, simulateMonths, type IncomeReport } from '../../src/sandbox/income-report';

const cents = (euros: number): number => Math.round(euros * 100);
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const isCents = (euros: number): boolean => Math.abs(euros * 100 - Math.round(euros * 100)) < 1e-6;

function figures(report: IncomeReport): number[] {
  const groups = [report.income, ...report.regular_expenses, ...report.variable_expenses];
  return [
    ...groups.flatMap((g) => Object.values(g.summary)),
    ...Object.values(report.disposable_income),
    ...Object.values(report.discretionary_income),
  ];
}

describe('buildIncomeReport', () => {
  it('is deterministic per flow and varies between flows', () => {
    const asOf = new Date('2025-06-15T00:00:00Z');
    const id = randomUUID();
    expect(buildIncomeReport(id, 12, asOf)).toEqual(buildIncomeReport(id, 12, asOf));
    const totals = new Set(
      Array.from({ length: 20 }, () => buildIncomeReport(randomUUID(), 12).income.summary.total),
    );
    expect(totals.size).toBeGreaterThan(15);
  });

  it.each([4, 12, 24])('adds up for %i months over many flows', (period) => {
    for (let i = 0; i < 200; i++) {
      const flowId = randomUUID();
      const report = buildIncomeReport(flowId, period);
      const sim = simulateMonths(flowId, period);
      expect(report.period).toBe(period);
      expect(figures(report).every(isCents)).toBe(true);

      const salaries = sim.salary.monthlyCents;
      const income = sum(salaries);
      expect(cents(report.income.summary.total)).toBe(income);
      expect(cents(report.income.summary.low)).toBe(Math.min(...salaries));
      expect(cents(report.income.summary.high)).toBe(Math.max(...salaries));
      expect(cents(report.income.summary.average)).toBe(Math.round(income / period));
      expect(report.income.summary.count).toBe(period);

      for (const group of [...report.regular_expenses, ...report.variable_expenses]) {
        const { total, low, high, average, count } = group.summary;
        expect(count).toBe(period);
        expect(low).toBeLessThanOrEqual(average);
        expect(high).toBeGreaterThanOrEqual(average);
        expect(cents(average)).toBe(Math.round(cents(total) / period));
      }

      const regular = sum(report.regular_expenses.map((g) => cents(g.summary.total)));
      const variable = sum(report.variable_expenses.map((g) => cents(g.summary.total)));
      expect(cents(report.disposable_income.total)).toBe(income - regular);
      expect(cents(report.discretionary_income.total)).toBe(income - regular - variable);
      expect(report.disposable_income.ratio).toBe(Math.round(((income - regular) / income) * 100) / 100);
      expect(report.discretionary_income.ratio).toBe(
        Math.round(((income - regular - variable) / income) * 100) / 100,
      );
      for (const balance of [report.disposable_income, report.discretionary_income]) {
        expect(balance.low).toBeLessThanOrEqual(balance.average);
        expect(balance.high).toBeGreaterThanOrEqual(balance.average);
      }
    }
  });

  it('dates the streams over the full months before asOf', () => {
    const report = buildIncomeReport(randomUUID(), 12, new Date('2025-06-15T00:00:00Z'));
    expect(report.income.primary.first_booked_on).toBe('2024-06-28');
    expect(report.income.primary.last_booked_on).toBe('2025-05-28');
    expect(report.income.primary.payment_partner).toEqual(expect.any(String));
    expect(report.income.streams).toEqual([
      { category: { id: 2, name: 'Salary' }, first_booked_on: '2024-06-28', last_booked_on: '2025-05-28' },
    ]);
  });
});
