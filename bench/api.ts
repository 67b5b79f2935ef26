// API server benchmark: a control plane (HTTPS, SQLite, bearer token) in a child process and a
// load generator over keep-alive connections in this one. Prints figures, asserts nothing:
//   (a) pod creates/s at concurrency 1, 16, 64 (a realistic pod), with p50/p99 latency;
//   (b) create latency at a fixed 200 requests/s, open loop (latency counted from the intended
//       send time, so a stalled server cannot hide its queue);
//   (c) LIST of 1,000 and 10,000 pods as JSON and as a server-side Table, and the 10,000 as kubectl
//       pages through them (limit=500);
//   (d) watch fan-out: 100 watchers on pods, the time from a write to its delivery at every
//       watcher, and events/s delivered under a burst of writes;
//   (e) custom resource creates/s at concurrency 16 and 64, for a CRD with a 20-field schema and two
//       CEL rules, beside pod creates in the same run (the ratio is printed);
//   (f) RBAC: pod creates/s at concurrency 16 by a service account whose namespace holds 1,000
//       RoleBindings, on a server authorizing with RBAC and on one with AlwaysAllow, both running,
//       in alternating rounds (the median of the rounds' ratios is printed).
//
// Usage: node bench/api.ts [--quick] [--profile[=DIR]] [--only=a,b,c,d,e]
//   --quick      smaller runs (a smoke test of the bench itself)
//   --profile    runs the server with --cpu-prof and prints where its CPU time went
//   --only       runs only some of the parts above (to profile one of them)

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BenchClient, openWatch, type Target } from './lib/https.ts';
import { benchPod } from './lib/pod.ts';
import { ms, percentile, printTable, rate, type Row } from './lib/stats.ts';
import { printProfile } from './lib/profile.ts';
import type { ChildInfo } from './lib/controlplane-child.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profileArg = args.find((a) => a === '--profile' || a.startsWith('--profile='));
const onlyArg = args.find((a) => a.startsWith('--only='));
const parts = new Set((onlyArg ? onlyArg.slice('--only='.length) : 'a,b,c,d,e,f').split(','));
const profileDir = profileArg ? (profileArg.includes('=') ? profileArg.slice('--profile='.length) : join(tmpdir(), `tinykube-api-profile-${Date.now()}`)) : undefined;

const sizes = quick
  ? { creates: { 1: 200, 16: 800, 64: 1000 } as Record<number, number>, openLoopSeconds: 3, lists: [1_000, 2_000], watchers: 20, watchWrites: 50, watchBurst: 300 }
  : { creates: { 1: 1_000, 16: 4_000, 64: 6_000 } as Record<number, number>, openLoopSeconds: 10, lists: [1_000, 10_000], watchers: 100, watchWrites: 200, watchBurst: 2_000 };

const createsTarget = '>= 2,000 creates/s on 2 cores';
const latencyTarget = 'p99 <= 50 ms at 200 req/s';
const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

const dir = mkdtempSync(join(tmpdir(), 'tk-bench-api-'));
/** The control planes running (part f runs two side by side). */
const children: ChildProcess[] = [];

async function startServer(data = 'data', extra: string[] = []): Promise<ChildInfo> {
  const script = join(import.meta.dirname, 'lib', 'controlplane-child.ts');
  const nodeArgs: string[] = [];
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  const child = spawn(process.execPath, [...nodeArgs, script, join(dir, data), ...extra], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`control plane exited with ${code} before it was ready`)));
    lines.once('line', (l) => resolve(JSON.parse(l) as ChildInfo));
  });
}

/** Stops every control plane running. */
async function stopServer(): Promise<void> {
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

function serverRssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function createNamespace(c: BenchClient, name: string): Promise<void> {
  await c.expect(201, 'POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name } }));
}

/** POSTs `n` bodies to `path` with `concurrency` requests in flight; returns per-request latencies and the wall time. */
async function createMany(c: BenchClient, path: string, n: number, concurrency: number, body: (i: number) => unknown): Promise<{ lat: number[]; seconds: number }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const text = JSON.stringify(body(i));
        const s = performance.now();
        await c.expect(201, 'POST', path, text);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { lat, seconds: (performance.now() - t0) / 1000 };
}

/** Creates `n` pods in `ns`. */
function createPods(c: BenchClient, ns: string, n: number, concurrency: number, prefix = 'p'): Promise<{ lat: number[]; seconds: number }> {
  return createMany(c, `/api/v1/namespaces/${ns}/pods`, n, concurrency, (i) => benchPod(`${prefix}-${i}`, i));
}

function sleepUntil(t: number): Promise<void> {
  const d = t - performance.now();
  return d > 0 ? new Promise((r) => setTimeout(r, d)) : Promise.resolve();
}

async function openLoop(c: BenchClient, ns: string, perSecond: number, seconds: number): Promise<{ lat: number[]; errors: number; lateStarts: number }> {
  const n = perSecond * seconds;
  const interval = 1000 / perSecond;
  const lat: number[] = [];
  let errors = 0;
  let lateStarts = 0;
  const inflight: Promise<void>[] = [];
  const t0 = performance.now() + 20;
  for (let i = 0; i < n; i++) {
    const intended = t0 + i * interval;
    await sleepUntil(intended);
    if (performance.now() - intended > interval) lateStarts++;
    const body = JSON.stringify(benchPod(`o-${i}`, i));
    inflight.push(
      c.request('POST', `/api/v1/namespaces/${ns}/pods`, body).then(
        (r) => {
          if (r.status !== 201) errors++;
          lat.push(performance.now() - intended);
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inflight);
  return { lat, errors, lateStarts };
}

async function listLatency(c: BenchClient, path: string, runs: number, accept?: string): Promise<{ lat: number[]; bytes: number; items: number }> {
  const lat: number[] = [];
  let bytes = 0;
  let items = 0;
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const r = await c.expect(200, 'GET', path, undefined, accept ? { Accept: accept } : {});
    lat.push(performance.now() - s);
    bytes = r.body.length;
    if (i === 0) {
      const doc = JSON.parse(r.body.toString('utf8')) as { items?: unknown[]; rows?: unknown[] };
      items = (doc.items ?? doc.rows ?? []).length;
    }
  }
  return { lat, bytes, items };
}

/** Pages through a list as kubectl does (limit=500, continue), returning the time for the whole walk. */
async function pagedList(c: BenchClient, path: string, accept: string): Promise<{ ms: number; pages: number; items: number }> {
  const s = performance.now();
  let cont = '';
  let pages = 0;
  let items = 0;
  do {
    const r = await c.expect(200, 'GET', `${path}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, undefined, { Accept: accept });
    const doc = JSON.parse(r.body.toString('utf8')) as { metadata?: { continue?: string }; rows?: unknown[]; items?: unknown[] };
    pages++;
    items += (doc.rows ?? doc.items ?? []).length;
    cont = doc.metadata?.continue ?? '';
  } while (cont);
  return { ms: performance.now() - s, pages, items };
}

async function watchFanOut(c: BenchClient, target: Target, ns: string, watchers: number, writes: number, burst: number): Promise<Row[]> {
  const list = JSON.parse((await c.expect(200, 'GET', `/api/v1/namespaces/${ns}/pods`)).body.toString('utf8')) as { metadata: { resourceVersion: string } };
  // arrivals.get(name)[w] = when watcher w saw the ADDED event of pod `name`.
  const arrivals = new Map<string, number[]>();
  let delivered = 0;
  let lastDelivery = 0;
  const namePattern = /"name":"(w-\d+)"/;
  const streams = Array.from({ length: watchers }, (_, w) =>
    openWatch(target, `/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`, (line, at) => {
      // The pod's name is the first "name" in the event (metadata comes before spec).
      const m = namePattern.exec(line);
      if (!m) return;
      let a = arrivals.get(m[1]!);
      if (!a) arrivals.set(m[1]!, (a = []));
      a[w] = at;
      delivered++;
      lastDelivery = at;
    }),
  );
  await Promise.all(streams.map((s) => s.ready));

  const waitAll = async (names: string[], timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (names.every((n) => (arrivals.get(n)?.filter((x) => x !== undefined).length ?? 0) === watchers)) return true;
      if (performance.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  // Latency: one write at a time, each followed by a short pause, so deliveries do not overlap.
  const toAll: number[] = [];
  const each: number[] = [];
  let missing = 0;
  for (let i = 0; i < writes; i++) {
    const name = `w-${i}`;
    const sent = performance.now();
    await c.expect(201, 'POST', `/api/v1/namespaces/${ns}/pods`, JSON.stringify(benchPod(name, i)));
    if (!(await waitAll([name], 5_000))) {
      missing++;
      continue;
    }
    const at = arrivals.get(name)!;
    toAll.push(Math.max(...at) - sent);
    for (const t of at) each.push(t - sent);
    await new Promise((r) => setTimeout(r, 5));
  }

  // Throughput: a burst of writes, 32 in flight, until every watcher has every event.
  const before = delivered;
  const names = Array.from({ length: burst }, (_, i) => `w-${writes + i}`);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < names.length) {
        const i = next++;
        await c.expect(201, 'POST', `/api/v1/namespaces/${ns}/pods`, JSON.stringify(benchPod(names[i]!, i)));
      }
    }),
  );
  const writesDone = performance.now();
  const complete = await waitAll(names, 60_000);
  const events = delivered - before;
  const seconds = (lastDelivery - t0) / 1000;
  for (const s of streams) s.close();
  return [
    { what: `watch: write -> delivered at all ${watchers} watchers`, value: `${toAll.length} writes${missing ? ` (${missing} lost)` : ''}`, p50: ms(percentile(toAll, 50)), p99: ms(percentile(toAll, 99)) },
    { what: `watch: write -> delivered, per watcher`, value: `${each.length} events`, p50: ms(percentile(each, 50)), p99: ms(percentile(each, 99)) },
    {
      what: `watch: burst of ${burst} creates to ${watchers} watchers`,
      value: `${rate(events, seconds)} events delivered`,
      p50: `(writes ${rate(burst, (writesDone - t0) / 1000)})`,
      p99: complete ? '(all delivered)' : `(${events}/${burst * watchers} delivered)`,
    },
  ];
}

/** A CRD whose schema has 20 fields (bounds, enums, a pattern, lists, a nested object) and two CEL rules. */
const benchCRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'benchapps.bench.tinykube.io' },
  spec: {
    group: 'bench.tinykube.io',
    scope: 'Namespaced',
    names: { plural: 'benchapps', singular: 'benchapp', kind: 'BenchApp' },
    versions: [{
      name: 'v1', served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { type: 'object', properties: {
        spec: {
          type: 'object',
          required: ['image', 'replicas'],
          'x-kubernetes-validations': [
            { rule: 'self.minReplicas <= self.replicas', message: 'replicas must be at least minReplicas' },
            { rule: "self.image.startsWith(self.registry + '/')", message: 'image must come from the registry' },
          ],
          properties: {
            image: { type: 'string', maxLength: 256 },
            registry: { type: 'string', default: 'registry.local' },
            replicas: { type: 'integer', minimum: 0, maximum: 1000 },
            minReplicas: { type: 'integer', minimum: 0, default: 1 },
            maxReplicas: { type: 'integer', minimum: 0, default: 10 },
            tier: { type: 'string', enum: ['frontend', 'backend', 'batch'] },
            schedule: { type: 'string', pattern: '^[0-9*/ ,-]+$' },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            protocol: { type: 'string', enum: ['TCP', 'UDP'], default: 'TCP' },
            paused: { type: 'boolean' },
            ratio: { type: 'number', minimum: 0, maximum: 1 },
            owner: { type: 'string', format: 'email' },
            startAt: { type: 'string', format: 'date-time' },
            tags: { type: 'array', maxItems: 16, items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
            env: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, value: { type: 'string' } } } },
            resources: { type: 'object', properties: { cpu: { 'x-kubernetes-int-or-string': true }, memory: { type: 'string' } } },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            timeoutSeconds: { type: 'integer', format: 'int32', default: 30 },
          },
        },
        status: { type: 'object', properties: { ready: { type: 'integer' } } },
      } } },
    }],
  },
};

function benchApp(name: string, i: number): unknown {
  return {
    apiVersion: 'bench.tinykube.io/v1',
    kind: 'BenchApp',
    metadata: { name, labels: { app: 'bench', shard: String(i % 16) } },
    spec: {
      image: 'registry.local/app:1.2.3', replicas: 3, minReplicas: 1, tier: 'backend', schedule: '*/5 * * * *', port: 8080, paused: false, ratio: 0.5,
      owner: 'team@example.com', startAt: '2026-01-01T00:00:00Z', tags: ['a', 'b'], env: [{ name: 'MODE', value: 'prod' }, { name: 'N', value: String(i) }],
      resources: { cpu: '500m', memory: '128Mi' }, labels: { team: 'x' },
    },
  };
}

function createApps(c: BenchClient, ns: string, n: number, concurrency: number, prefix = 'a'): Promise<{ lat: number[]; seconds: number }> {
  return createMany(c, `/apis/bench.tinykube.io/v1/namespaces/${ns}/benchapps`, n, concurrency, (i) => benchApp(`${prefix}-${i}`, i));
}

/**
 * (f) A fresh server with 1,000 RoleBindings in one namespace (999 to other users, one granting the
 * bench service account pod creation); returns a client with that account's token, warmed up.
 */
async function rbacServer(allowAll: boolean): Promise<BenchClient> {
  const info = await startServer(allowAll ? 'data-allow' : 'data-rbac', allowAll ? ['--always-allow'] : []);
  const admin = new BenchClient({ port: info.port, ca: info.ca, token: info.token }, 16);
  const g = 'rbac.authorization.k8s.io';
  await createNamespace(admin, 'rbac');
  await admin.expect(201, 'POST', `/apis/${g}/v1/clusterroles`, JSON.stringify({ metadata: { name: 'bench-pods' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }] }));
  await admin.expect(201, 'POST', '/api/v1/namespaces/rbac/serviceaccounts', JSON.stringify({ metadata: { name: 'bench' } }));
  await createMany(admin, `/apis/${g}/v1/namespaces/rbac/rolebindings`, 1_000, 16, (i) => ({
    metadata: { name: `rb-${i}` },
    roleRef: { apiGroup: g, kind: 'ClusterRole', name: 'bench-pods' },
    subjects: [i === 500 ? { kind: 'ServiceAccount', name: 'bench' } : { kind: 'User', apiGroup: g, name: `user-${i}` }],
  }));
  const tr = await admin.request('POST', '/api/v1/namespaces/rbac/serviceaccounts/bench/token', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } }));
  const token = (JSON.parse(tr.body.toString('utf8')) as { status?: { token?: string } }).status?.token;
  if (!token) throw new Error(`TokenRequest: ${tr.status} ${tr.body.toString('utf8')}`);
  admin.close();
  const c = new BenchClient({ port: info.port, ca: info.ca, token }, 16);
  // The authorizer follows the bindings through a watch: wait until the account may create.
  for (let i = 0; (await c.request('POST', '/api/v1/namespaces/rbac/pods', JSON.stringify(benchPod(`first-${i}`, i)))).status !== 201; i++) {
    if (i > 200) throw new Error('the service account never got its binding');
    await new Promise((r) => setTimeout(r, 20));
  }
  await createPods(c, 'rbac', quick ? 200 : 1_000, 16, 'warm');
  return c;
}

/**
 * (f) Both servers side by side, creates in alternating rounds (AlwaysAllow, then RBAC), so that the
 * machine's drift and other load fall on both alike: a single pair of runs varied from 0.81x to
 * 1.05x on this VM. Returns each side's latencies and seconds, and the ratio of each round.
 */
async function rbacRounds(n: number, rounds: number): Promise<{ off: { lat: number[]; seconds: number }; on: { lat: number[]; seconds: number }; ratios: number[] }> {
  const offClient = await rbacServer(true);
  const onClient = await rbacServer(false);
  const off = { lat: [] as number[], seconds: 0 };
  const on = { lat: [] as number[], seconds: 0 };
  const ratios: number[] = [];
  const per = Math.ceil(n / rounds);
  for (let r = 0; r < rounds; r++) {
    const a = await createPods(offClient, 'rbac', per, 16, `r${r}`);
    const b = await createPods(onClient, 'rbac', per, 16, `r${r}`);
    off.lat.push(...a.lat);
    off.seconds += a.seconds;
    on.lat.push(...b.lat);
    on.seconds += b.seconds;
    ratios.push(a.seconds / b.seconds);
  }
  offClient.close();
  onClient.close();
  await stopServer();
  return { off, on, ratios };
}

async function main(): Promise<void> {
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`tinykube API bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average at start ${load}${quick ? ', --quick' : ''}`);
  console.log('server: control plane in a child process (HTTPS, bearer token, SQLite in a temp dir); client: this process, keep-alive');
  const info = await startServer();
  const target: Target = { port: info.port, ca: info.ca, token: info.token };
  const rows: Row[] = [];

  // Warm the server's JIT and the connection pool before measuring.
  {
    const c = new BenchClient(target, 16);
    await createNamespace(c, 'warm');
    await createPods(c, 'warm', quick ? 200 : 1_000, 16, 'warm');
    c.close();
  }

  // (a) creates/s by concurrency.
  for (const conc of parts.has('a') ? [1, 16, 64] : []) {
    const c = new BenchClient(target, conc);
    const ns = `create-c${conc}`;
    await createNamespace(c, ns);
    const n = sizes.creates[conc]!;
    const { lat, seconds } = await createPods(c, ns, n, conc);
    rows.push({ what: `pod creates, concurrency ${conc} (${n} pods)`, value: rate(n, seconds), p50: ms(percentile(lat, 50)), p99: ms(percentile(lat, 99)), target: createsTarget });
    c.close();
  }

  // (b) open loop at 200 req/s.
  if (parts.has('b')) {
    const c = new BenchClient(target, 256);
    await createNamespace(c, 'openloop');
    const { lat, errors, lateStarts } = await openLoop(c, 'openloop', 200, sizes.openLoopSeconds);
    const note = `${lat.length} creates${errors ? `, ${errors} errors` : ''}${lateStarts ? `, ${lateStarts} sent late` : ''}`;
    rows.push({ what: `pod create latency at 200 req/s open loop (${sizes.openLoopSeconds} s)`, value: note, p50: ms(percentile(lat, 50)), p99: ms(percentile(lat, 99)), target: latencyTarget });
    c.close();
  }

  // (c) LIST latency.
  if (parts.has('c')) {
    const c = new BenchClient(target, 64);
    for (const n of sizes.lists) {
      const ns = `list-${n}`;
      await createNamespace(c, ns);
      await createPods(c, ns, n, 64, 'l');
      const runs = n >= 10_000 ? 5 : 20;
      const path = `/api/v1/namespaces/${ns}/pods`;
      const j = await listLatency(c, path, runs);
      rows.push({ what: `LIST ${n.toLocaleString('en-US')} pods, JSON (${(j.bytes / 1048576).toFixed(1)} MiB, ${runs} runs)`, value: `${j.items} items`, p50: ms(percentile(j.lat, 50)), p99: ms(percentile(j.lat, 99)) });
      const t = await listLatency(c, path, runs, tableAccept);
      rows.push({ what: `LIST ${n.toLocaleString('en-US')} pods, Table (${(t.bytes / 1048576).toFixed(1)} MiB, ${runs} runs)`, value: `${t.items} rows`, p50: ms(percentile(t.lat, 50)), p99: ms(percentile(t.lat, 99)) });
      if (n >= 10_000 || quick) {
        const walks: number[] = [];
        let pages = 0;
        for (let i = 0; i < 3; i++) {
          const p = await pagedList(c, path, tableAccept);
          walks.push(p.ms);
          pages = p.pages;
        }
        rows.push({ what: `LIST ${n.toLocaleString('en-US')} pods as kubectl get (Table, limit=500, ${pages} pages)`, value: 'whole walk', p50: ms(percentile(walks, 50)), p99: ms(Math.max(...walks)) });
      }
    }
    c.close();
  }

  // (d) watch fan-out.
  if (parts.has('d')) {
    const c = new BenchClient(target, 32);
    await createNamespace(c, 'watch');
    rows.push(...(await watchFanOut(c, target, 'watch', sizes.watchers, sizes.watchWrites, sizes.watchBurst)));
    c.close();
  }

  // (e) custom resource creates beside pod creates, same server, same concurrency.
  if (parts.has('e')) {
    const c = new BenchClient(target, 64);
    await c.expect(201, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', JSON.stringify(benchCRD));
    for (let i = 0; ; i++) {
      const r = await c.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/benchapps.bench.tinykube.io');
      const crd = JSON.parse(r.body.toString('utf8')) as { status?: { conditions?: Array<{ type: string; status: string }> } };
      if (crd.status?.conditions?.some((k) => k.type === 'Established' && k.status === 'True') && (await c.request('GET', '/apis/bench.tinykube.io/v1/benchapps')).status === 200) break;
      if (i > 200) throw new Error('the bench CRD was not established');
      await new Promise((r) => setTimeout(r, 20));
    }
    await createNamespace(c, 'cr-warm');
    await createApps(c, 'cr-warm', quick ? 200 : 1_000, 16, 'warm');
    for (const conc of [16, 64]) {
      const n = sizes.creates[conc]!;
      await createNamespace(c, `cr-pods-c${conc}`);
      const pods = await createPods(c, `cr-pods-c${conc}`, n, conc);
      await createNamespace(c, `cr-c${conc}`);
      const apps = await createApps(c, `cr-c${conc}`, n, conc);
      const podRate = n / pods.seconds;
      const appRate = n / apps.seconds;
      rows.push({ what: `pod creates beside (e), concurrency ${conc} (${n})`, value: rate(n, pods.seconds), p50: ms(percentile(pods.lat, 50)), p99: ms(percentile(pods.lat, 99)) });
      rows.push({ what: `custom resource creates (20 fields, 2 CEL rules), concurrency ${conc} (${n})`, value: `${rate(n, apps.seconds)} (${(appRate / podRate).toFixed(2)}x pods)`, p50: ms(percentile(apps.lat, 50)), p99: ms(percentile(apps.lat, 99)), target: '>= 2,000/s and >= 0.8x pod creates' });
    }
    c.close();
  }

  rows.push({ what: 'server RSS after the run', value: `${serverRssMiB(info.pid).toFixed(0)} MiB` });
  await stopServer();

  // (f) RBAC against AlwaysAllow, each on a server of its own.
  if (parts.has('f')) {
    const rounds = quick ? 3 : 7;
    const n = sizes.creates[16]! * 2;
    const { off, on, ratios } = await rbacRounds(n, rounds);
    const sorted = [...ratios].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    rows.push({ what: `pod creates by a service account, AlwaysAllow, concurrency 16 (${off.lat.length} in ${rounds} rounds)`, value: rate(off.lat.length, off.seconds), p50: ms(percentile(off.lat, 50)), p99: ms(percentile(off.lat, 99)) });
    rows.push({ what: `same with RBAC and 1,000 RoleBindings, rounds alternated (median round ratio; min-max ${sorted[0]!.toFixed(2)}-${sorted.at(-1)!.toFixed(2)})`, value: `${rate(on.lat.length, on.seconds)} (${median.toFixed(2)}x)`, p50: ms(percentile(on.lat, 50)), p99: ms(percentile(on.lat, 99)), target: '>= 0.9x AlwaysAllow' });
  }
  printTable('figures (latency columns: p50 / p99 unless noted)', rows);
}

try {
  await main();
} finally {
  await stopServer();
  rmSync(dir, { recursive: true, force: true });
}
if (profileDir) {
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  for (const f of files) printProfile(join(profileDir, f));
}
