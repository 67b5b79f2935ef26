// Storage benchmark: the SQLite backend at scheduler-bench size (150k pods by default).
// Prints creates/s (one writer and many concurrent writers), list latency of every key at the
// current and at an older revision, paginated listing, get latency, update rate and compaction.
//
// Usage: node bench/storage.ts [KEYS] [CONCURRENCY]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteBackend } from '../src/storage/sqlite/sqlite-backend.ts';

const N = Number(process.argv[2] ?? 150_000);
const CONC = Number(process.argv[3] ?? 64);
const dir = mkdtempSync(join(tmpdir(), 'tk-bench-storage-'));
const path = join(dir, 'state.db');
const b = openSqliteBackend(path);

// A pod about the size of a small Deployment's pod once defaulted and scheduled (~1.5 KB).
function pod(i: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: `ns-${i % 50}`, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, labels: { app: `app-${i % 500}`, tier: 'web' }, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      containers: [{ name: 'app', image: 'registry.local/app:1.0', ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } }, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }],
      restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default', schedulerName: 'default-scheduler',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority',
    },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  });
}
const key = (i: number) => `/registry/pods/ns-${i % 50}/pod-${i}`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, c) => a - c);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const ms = (x: number) => `${x.toFixed(2)} ms`;
const line = (label: string, value: string) => console.log(`${label.padEnd(48)} ${value}`);

console.log(`storage bench: sqlite, ${N} keys, ${CONC} concurrent writers, value ${pod(0).length} B`);

// One writer waiting for each acknowledgement: bounded by one commit (fsync) per write.
{
  const n = Math.min(2000, N);
  const t = performance.now();
  for (let i = 0; i < n; i++) await b.create(`/registry/serial/k${i}`, pod(i));
  const s = (performance.now() - t) / 1000;
  line('creates/s, 1 writer (one commit each)', (n / s).toFixed(0));
}

// Many concurrent writers, as an API server under load: group commit.
{
  let next = 0;
  const lat: number[] = [];
  const t = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < N) {
        const i = next++;
        const t0 = performance.now();
        await b.create(key(i), pod(i));
        lat.push(performance.now() - t0);
      }
    }),
  );
  const s = (performance.now() - t) / 1000;
  line(`creates/s, ${CONC} writers`, (N / s).toFixed(0));
  line('create latency p50 / p99', `${ms(pct(lat, 50))} / ${ms(pct(lat, 99))}`);
}

const listRev = await b.currentRevision();
{
  const t = performance.now();
  const all = await b.list('/registry/pods/');
  line(`list all ${all.items.length} pods (current revision)`, ms(performance.now() - t));
  const t2 = performance.now();
  const ns = await b.list('/registry/pods/ns-7/');
  line(`list one namespace (${ns.items.length} pods)`, ms(performance.now() - t2));
  const t3 = performance.now();
  const c = await b.count('/registry/pods/');
  line(`count (${c})`, ms(performance.now() - t3));
}

// Updates (binding / status), each with compare-and-swap.
{
  const n = Math.min(N, 50_000);
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < n) {
        const i = next++;
        const cur = (await b.get(key(i)))!;
        await b.update(key(i), cur.value.replace('"Pending"', '"Running"'), cur.modRevision);
      }
    }),
  );
  line(`get+update/s, ${CONC} writers (${n})`, (n / ((performance.now() - t) / 1000)).toFixed(0));
}

{
  const lat: number[] = [];
  for (let j = 0; j < 2000; j++) {
    const i = (j * 7919) % N;
    const t0 = performance.now();
    await b.get(key(i));
    lat.push(performance.now() - t0);
  }
  line('get latency p50 / p99', `${ms(pct(lat, 50))} / ${ms(pct(lat, 99))}`);
}

// Everything at the revision before the updates: the history path.
{
  const t = performance.now();
  const all = await b.list('/registry/pods/', { revision: listRev });
  line(`list all ${all.items.length} pods (older revision)`, ms(performance.now() - t));
}

// Paginated as clients do (limit 500), at the first page's revision while writes continue.
{
  const pages: number[] = [];
  let startAfter: string | undefined;
  let revision: number | undefined;
  let items = 0;
  let w = 0;
  const t = performance.now();
  for (;;) {
    const t0 = performance.now();
    const page = await b.list('/registry/pods/', { limit: 500, startAfter, revision });
    pages.push(performance.now() - t0);
    items += page.items.length;
    revision = page.revision;
    if (!page.more) break;
    startAfter = page.items[page.items.length - 1].key;
    for (let k = 0; k < 5; k++) await b.create(`/registry/pods/zz/extra-${w++}`, '{}');
  }
  line(`paginated list, ${pages.length} pages of 500 (${items} pods)`, `${ms(performance.now() - t)} total, page p50 ${ms(pct(pages, 50))} p99 ${ms(pct(pages, 99))}`);
}

// Watch fan-out: 100 watchers on the pods prefix, 10,000 writes.
{
  let seen = 0;
  const n = 10_000;
  const target = n * 100;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const ws = Array.from({ length: 100 }, () =>
    b.watch('/registry/pods/', 0, { onEvent: () => void (++seen === target && done()), onError: () => undefined }),
  );
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < n) {
        const i = next++;
        await b.create(`/registry/pods/watch/p${i}`, pod(i));
      }
    }),
  );
  await all;
  line('watch: 10,000 creates to 100 watchers', `${ms(performance.now() - t)} (${(target / ((performance.now() - t) / 1000)).toFixed(0)} events/s)`);
  for (const x of ws) x.close();
}

{
  const before = b.stats().logRows;
  const t = performance.now();
  await b.compact(await b.currentRevision());
  line(`compact at head (${before} -> ${b.stats().logRows} log rows)`, ms(performance.now() - t));
}

line('database file', `${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`);
line('rss', `${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
await b.close();
rmSync(dir, { recursive: true, force: true });
