// Small statistics and table printing for the benchmarks. Pure.

/** The p-th percentile (nearest rank) of `xs`; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export function ms(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x < 10 ? `${x.toFixed(2)} ms` : x < 100 ? `${x.toFixed(1)} ms` : `${x.toFixed(0)} ms`;
}

export function rate(n: number, seconds: number): string {
  return `${Math.round(n / seconds).toLocaleString('en-US')}/s`;
}

export interface Row {
  what: string;
  value: string;
  p50?: string;
  p99?: string;
  target?: string;
}

/** Prints rows as an aligned table. */
export function printTable(title: string, rows: readonly Row[]): void {
  const head: Row = { what: 'measurement', value: 'value', p50: 'p50', p99: 'p99', target: 'target (issue)' };
  const all = [head, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => (r[k] ?? '').length));
  const widths = { what: w('what'), value: w('value'), p50: w('p50'), p99: w('p99') };
  const line = (r: Row) =>
    `${r.what.padEnd(widths.what)}  ${r.value.padStart(widths.value)}  ${(r.p50 ?? '').padStart(widths.p50)}  ${(r.p99 ?? '').padStart(widths.p99)}  ${r.target ?? ''}`.trimEnd();
  console.log(`\n${title}`);
  console.log(line(head));
  console.log('-'.repeat(line(head).length + 10));
  for (const r of rows) console.log(line(r));
}
