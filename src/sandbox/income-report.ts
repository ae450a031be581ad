import { createHash } from 'node:crypto';

/** The report shape of docs/finx-api.md section 4. Amounts are euros with at most two decimals. */
export interface ReportSummary {
  total: number;
  low: number;
  high: number;
  average: number;
  count: number;
}

export interface ReportCategory {
  id: number;
  name: string;
}

export interface ReportStream {
  category: ReportCategory;
  first_booked_on: string;
  last_booked_on: string;
  payment_partner?: string;
}

export interface ReportGroup {
  summary: ReportSummary;
  streams: ReportStream[];
}

export interface ReportBalance {
  total: number;
  low: number;
  high: number;
  average: number;
  ratio: number;
}

export interface IncomeReport {
  period: number;
  income: ReportGroup & { primary: ReportStream & { payment_partner: string } };
  regular_expenses: ReportGroup[];
  variable_expenses: ReportGroup[];
  disposable_income: ReportBalance;
  discretionary_income: ReportBalance;
}

/** One simulated money stream: an amount in cents for every month of the period, oldest first. */
export interface SimulatedStream {
  category: ReportCategory;
  paymentPartner: string | undefined;
  /** Day of month the bookings fall on (first and last booking). */
  firstDay: number;
  lastDay: number;
  monthlyCents: number[];
}

export interface SimulatedMonths {
  employer: string;
  salary: SimulatedStream;
  regular: SimulatedStream[];
  variable: SimulatedStream[];
}

/** sfc32: small, fast and good enough to make figures vary between flows while staying reproducible. */
function seededRandom(seedText: string): () => number {
  const seed = createHash('sha256').update(seedText).digest();
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

type Random = () => number;

function intBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

const employers = [
  'Acme GmbH',
  'Muster AG',
  'Nordlicht Logistik GmbH',
  'Rheinwerk Software SE',
  'Stadtwerke Beispielstadt',
  'Bäckerei Sonnenschein KG',
  'Klinikum Am Park gGmbH',
  'Hanse Handel & Co. KG',
] as const;
const landlords = [
  'Wohnbau Mitte GmbH',
  'Hausverwaltung Krüger',
  'Immobilien Lindner',
  'WG Südstadt eG',
] as const;
const insurers = ['Allsicher Versicherung AG', 'Nordpol Versicherung', 'Versicherungskammer Muster'] as const;
const telcos = ['Telenet Mobil', 'Funkwelle GmbH', 'Blitz DSL'] as const;
const utilities = ['Stadtwerke Beispielstadt', 'Grünstrom Energie', 'Energie Nord'] as const;

const SALARY: ReportCategory = { id: 2, name: 'Salary' };

/** The raw monthly figures behind a report: deterministic per flow id, varied between flows. */
export function simulateMonths(flowId: string, periodMonths: number): SimulatedMonths {
  const random = seededRandom(`finx-sandbox:${flowId}`);
  const months = Array.from({ length: periodMonths }, (_, i) => i);

  const employer = pick(random, employers);
  let baseCents = intBetween(random, 220, 520) * 1000;
  const raiseMonth = random() < 0.4 ? intBetween(random, 1, Math.max(1, periodMonths - 1)) : -1;
  const raisePercent = intBetween(random, 2, 6);
  const salaryCents = months.map((m) => {
    if (m === raiseMonth) baseCents = Math.round((baseCents * (100 + raisePercent)) / 100);
    let amount = baseCents;
    if (random() < 0.25) amount += intBetween(random, 1, 30000); // overtime, allowances
    if (random() < 0.08) amount += intBetween(random, 20, 120) * 1000; // bonus
    return amount;
  });
  const salary: SimulatedStream = {
    category: SALARY,
    paymentPartner: employer,
    firstDay: 28,
    lastDay: 28,
    monthlyCents: salaryCents,
  };

  const fixed = (category: ReportCategory, partner: string, day: number, cents: number): SimulatedStream => ({
    category,
    paymentPartner: partner,
    firstDay: day,
    lastDay: day,
    monthlyCents: months.map(() => cents),
  });
  const regular: SimulatedStream[] = [
    fixed(
      { id: 10, name: 'Rent' },
      pick(random, landlords),
      1,
      Math.round((baseCents * intBetween(random, 24, 36)) / 10000) * 100,
    ),
    fixed({ id: 11, name: 'Insurance' }, pick(random, insurers), 1, intBetween(random, 4000, 18000)),
    fixed({ id: 13, name: 'Energy' }, pick(random, utilities), 5, intBetween(random, 60, 160) * 100),
  ];
  if (random() < 0.7) {
    regular.push(
      fixed({ id: 12, name: 'Telecommunication' }, pick(random, telcos), 15, intBetween(random, 1999, 6999)),
    );
  }

  const varying = (category: ReportCategory, minCents: number, maxCents: number): SimulatedStream => ({
    category,
    paymentPartner: undefined,
    firstDay: intBetween(random, 1, 6),
    lastDay: intBetween(random, 22, 28),
    monthlyCents: months.map(() => intBetween(random, minCents, maxCents)),
  });
  const variable: SimulatedStream[] = [varying({ id: 20, name: 'Groceries' }, 22000, 56000)];
  if (random() < 0.8) variable.push(varying({ id: 21, name: 'Leisure' }, 3000, 32000));
  if (random() < 0.6) variable.push(varying({ id: 22, name: 'Transport' }, 4900, 21000));

  return { employer, salary, regular, variable };
}

function euros(cents: number): number {
  return Math.round(cents) / 100;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function summaryOf(monthlyCents: number[]): ReportSummary {
  const total = sum(monthlyCents);
  return {
    total: euros(total),
    low: euros(Math.min(...monthlyCents)),
    high: euros(Math.max(...monthlyCents)),
    average: euros(Math.round(total / monthlyCents.length)),
    count: monthlyCents.length,
  };
}

function balanceOf(monthlyCents: number[], incomeTotalCents: number): ReportBalance {
  const { total, low, high, average } = summaryOf(monthlyCents);
  const ratio = incomeTotalCents === 0 ? 0 : Math.round((sum(monthlyCents) / incomeTotalCents) * 100) / 100;
  return { total, low, high, average, ratio };
}

function bookingDate(asOf: Date, monthsBack: number, day: number): string {
  return new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() - monthsBack, day))
    .toISOString()
    .slice(0, 10);
}

function streamOf(stream: SimulatedStream, periodMonths: number, asOf: Date): ReportStream {
  const out: ReportStream = {
    category: stream.category,
    // The period is the `periodMonths` full months before the month of `asOf`.
    first_booked_on: bookingDate(asOf, periodMonths, stream.firstDay),
    last_booked_on: bookingDate(asOf, 1, stream.lastDay),
  };
  if (stream.paymentPartner !== undefined) out.payment_partner = stream.paymentPartner;
  return out;
}

function monthlyTotals(streams: SimulatedStream[], periodMonths: number): number[] {
  return Array.from({ length: periodMonths }, (_, m) => sum(streams.map((s) => s.monthlyCents[m] ?? 0)));
}

/**
 * A report whose figures add up: every summary is over monthly sums (count = months, low/high =
 * smallest/largest month, average = total / months); disposable = income − regular expenses;
 * discretionary = disposable − variable expenses; ratio = total / income total. Expenses are
 * positive amounts. Figures depend only on `flowId` and `periodMonths`; dates come from `asOf`.
 */
export function buildIncomeReport(
  flowId: string,
  periodMonths: number,
  asOf: Date = new Date(),
): IncomeReport {
  const sim = simulateMonths(flowId, periodMonths);
  const income = sim.salary.monthlyCents;
  const incomeTotal = sum(income);
  const regular = monthlyTotals(sim.regular, periodMonths);
  const variable = monthlyTotals(sim.variable, periodMonths);
  const disposable = income.map((amount, m) => amount - (regular[m] ?? 0));
  const discretionary = disposable.map((amount, m) => amount - (variable[m] ?? 0));
  const salaryStream = streamOf(sim.salary, periodMonths, asOf);
  const group = (stream: SimulatedStream): ReportGroup => ({
    summary: summaryOf(stream.monthlyCents),
    streams: [streamOf(stream, periodMonths, asOf)],
  });

  return {
    period: periodMonths,
    income: {
      summary: summaryOf(income),
      streams: [
        {
          category: salaryStream.category,
          first_booked_on: salaryStream.first_booked_on,
          last_booked_on: salaryStream.last_booked_on,
        },
      ],
      primary: { ...salaryStream, payment_partner: sim.employer },
    },
    regular_expenses: sim.regular.map(group),
    variable_expenses: sim.variable.map(group),
    disposable_income: balanceOf(disposable, incomeTotal),
    discretionary_income: balanceOf(discretionary, incomeTotal),
  };
}
