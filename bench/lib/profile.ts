// Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per file, so
// a benchmark can say where the server's time goes without opening DevTools.
//
// Usage: node bench/lib/profile.ts FILE.cpuprofile [TOP]

import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: { name: string; ms: number; share: number }[];
  files: { name: string; ms: number; share: number }[];
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const i = url.indexOf('/src/');
  if (i >= 0) return url.slice(i + 1);
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 1);
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(path: string): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Self time per node from the samples and their time deltas (more exact than hitCount × interval).
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const d = (deltas[i + 1] ?? 0) / 1000;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + d);
  }
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, msSelf] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += msSelf;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
      if (name === '(idle)') idle += msSelf;
      fn.set(name, (fn.get(name) ?? 0) + msSelf);
      continue;
    }
    const where = shortUrl(n.callFrame.url);
    fn.set(`${name} ${where}:${n.callFrame.lineNumber + 1}`, (fn.get(`${name} ${where}:${n.callFrame.lineNumber + 1}`) ?? 0) + msSelf);
    const f = where.startsWith('node:') ? where : where.replace(/:\d+$/, '');
    file.set(f, (file.get(f) ?? 0) + msSelf);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>) =>
    [...m]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .map(([name, v]) => ({ name, ms: v, share: busy > 0 ? v / busy : 0 }));
  return { totalMs: total, idleMs: idle, functions: rank(fn), files: rank(file) };
}

export function printProfile(path: string, top = 25): void {
  const s = summarizeProfile(path);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  console.log(`\nserver CPU profile ${path}`);
  console.log(`  sampled ${(s.totalMs / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s, busy ${((s.totalMs - s.idleMs) / 1000).toFixed(1)} s`);
  console.log('  self time by file (share of busy time):');
  for (const f of s.files.slice(0, 15)) console.log(`    ${pct(f.share)}  ${f.name}`);
  console.log('  self time by function:');
  for (const f of s.functions.slice(0, top)) console.log(`    ${pct(f.share)}  ${f.name}`);
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: profile.ts FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  printProfile(file, Number(process.argv[3] ?? 25));
}
