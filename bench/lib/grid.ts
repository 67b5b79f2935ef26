// A plain aligned table with any columns (the first left-aligned, the rest right-aligned), for
// benchmarks that compare several systems side by side. Pure.

export function printGrid(title: string, head: readonly string[], rows: readonly (readonly string[])[], notes: readonly string[] = []): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? (c ?? '').padEnd(widths[i]!) : (c ?? '').padStart(widths[i]!))).join('  ').trimEnd();
  console.log(`\n${title}`);
  console.log(line(head));
  console.log('-'.repeat(widths.reduce((a, b) => a + b + 2, -2)));
  for (const r of rows) console.log(line(r));
  for (const n of notes) console.log(`  ${n}`);
}

/** "1.23×" or "-" when either side is missing. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '-';
}

/** Milliseconds as "123 ms" or "4.56 s". */
export function dur(msValue: number): string {
  if (!Number.isFinite(msValue)) return '-';
  return msValue < 1000 ? `${msValue.toFixed(0)} ms` : `${(msValue / 1000).toFixed(2)} s`;
}
