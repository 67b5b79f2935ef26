// The memory of a node's proxy and cluster DNS together, as the agent runs them in its process
// (issue 12: ≤ 60 MB at 10,000 Services): informers over N Services and their EndpointSlices (10
// endpoints each, every tenth Service headless, every tenth other a NodePort), the real proxier
// programming nftables in a network namespace this bench makes, the DNS index and server on
// 127.0.0.1. The objects are shaped as the API server sends them (uids, timestamps, owner references,
// target refs, the controller's labels and annotation) and parsed from JSON for every list, as from
// the wire; the source keeps none of them, so what stays is the node's.
//
// Printed: heap used after a full GC and RSS, before anything is built and once both have synced
// (their differences are the figures), and the nft -i helper's RSS (a process of its own). Layouts:
//   --layout shared: the agent's wiring (src/cmd/node-services.ts): one pair of trimmed informers
//     for both (src/proxy/informers.ts);
//   --layout separate: the wiring before it: the proxy's informers keep whole objects, the DNS has
//     informers of its own over objects it trims (runs against older trees too).
//
// Measured 2026-12-07, load 1.7-2.0, 10,000 Services, the agent's --max-semi-space-size=2, against 161d862
// (separate layout, its only one) in alternated runs: heap after GC +147.4 → +56.9 MiB, RSS +195 → +100
// MiB (RSS moves ±20 MiB between runs; the peak of the first sync sets it). The same code in the separate
// layout: heap +115 MiB. Where the 57 MiB go: informers ~16 (trimmed objects), the proxier's model ~23,
// the DNS index ~20. The nft processes (not counted): `nft -f` of the first load peaks at ~465 MB.
//
// Measured later that day, alternated against df4ac1e, load 1.0-4.1, 6 runs each: heap after GC +56.9 →
// +42.1 MiB, RSS +73-98 (median ~86) → +56-65 MiB (median ~61), the same after 20 s idle (--idle).
// What changed: pages of 50 objects in the informers' lists (with the informers alone, RSS +54 → +19
// MiB over a heap of +16), the DNS index's endpoints as arrays rather than objects and no per-Service
// PTR address lists, shared port lists, the proxy model's arrays and small maps at their size. Heap by
// part now: informers ~14 MiB, DNS index ~11, proxy ~17. What is left above the heap is V8's: pages
// committed at the first sync's peak (~12 MiB of garbage above what stays) that a regular GC keeps
// (pooled or fragmented); a memory-reducing GC returns them, and V8 runs one on its own when idle only
// if told to favour memory: with --optimize-for-size added to the agent's flags, heap +37.0 MiB, RSS
// +50-53 MiB at once and +43 MiB after 20 s idle (2 runs, load 4). Since adopted: bin/tinykube and
// `up --nodes` give the agent --optimize-for-size. Quiet machine (load 1.5-2.3), one run each:
// without it heap +42.1, RSS +61.9 MiB (+61.9 after 20 s idle); with it heap +37.0, RSS +53.8 MiB
// (+45.4 after 20 s idle), sync 4.4 → 4.8 s. bench/services-proxy at 10,000, same flags: change→kernel
// p50 17 → 18 ms, p99 54 → 90 ms (nft's stalls; build+diff 3.6 → 4.3 ms).
//
// Usage: node --expose-gc bench/services-memory.ts [--services 10000] [--layout shared|separate] [--idle SECONDS]
// (root: the proxy programs nftables in its own network namespace).
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { formatIPv4, parseIPv4, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../src/api/network.ts';
import type { EndpointSlice, Service } from '../src/api/types.ts';
import type { HasMetadata, ListOptions, ObjectList } from '../src/client/client.ts';
import { Informer, transformListWatch } from '../src/client/informer.ts';
import type { ListerWatcher } from '../src/client/informer.ts';
import type { WatchEvent } from '../src/client/watch.ts';
import { ClusterDNS, trimServiceForDNS, trimSliceForDNS } from '../src/dns/component.ts';
import { CommandRunner } from '../src/proxy/nft.ts';
import { Proxier } from '../src/proxy/proxier.ts';
import { NetnsLab } from '../src/proxy/testing/netns.ts';

const { values } = parseArgs({ options: { services: { type: 'string', default: '10000' }, layout: { type: 'string', default: 'shared' }, idle: { type: 'string', default: '0' } } });
const N = Number(values.services);
const NODES = 5;
const SVC_BASE = parseIPv4('10.43.0.0')!;
const POD_BASE = parseIPv4('10.244.0.0')!;
const uid = (kind: number, i: number, j = 0): string => `${kind}b7c3f1e-0000-4000-${String(j).padStart(4, '0')}-${String(i).padStart(12, '0')}`;

function apiService(i: number): Service & HasMetadata {
  const name = `svc-${i}`;
  const headless = i % 10 === 0;
  const nodePort = i % 10 === 1;
  const ip = headless ? 'None' : formatIPv4(SVC_BASE + 16 + i);
  return JSON.parse(JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: `ns-${i % 100}`, uid: uid(0, i), resourceVersion: String(1000 + i), creationTimestamp: '2026-12-06T10:00:00Z', labels: { app: name } },
    spec: {
      type: nodePort ? 'NodePort' : 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster',
      sessionAffinity: 'None', selector: { app: name },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, ...(nodePort ? { nodePort: 30000 + ((i / 10) | 0) } : {}) }],
      ...(nodePort ? { externalTrafficPolicy: 'Cluster' } : {}),
    },
    status: { loadBalancer: {} },
  })) as Service & HasMetadata;
}

function apiSlice(i: number): EndpointSlice & HasMetadata {
  const name = `svc-${i}`;
  const ns = `ns-${i % 100}`;
  const labels: Record<string, string> = { [LABEL_SERVICE_NAME]: name, [LABEL_MANAGED_BY]: 'endpointslice-controller.k8s.io', app: name };
  if (i % 10 === 0) labels['service.kubernetes.io/headless'] = '';
  return JSON.parse(JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-x7k2p`, generateName: `${name}-`, namespace: ns, uid: uid(1, i), resourceVersion: String(20000 + i), generation: 1, creationTimestamp: '2026-12-06T10:00:00Z', labels,
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-12-06T10:00:00Z' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: uid(0, i), controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: 10 }, (_, j) => ({
      addresses: [formatIPv4(POD_BASE + i * 10 + j + 1)],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${j % NODES}`,
      ...(i % 10 === 0 ? { hostname: `${name}-${j}` } : {}),
      targetRef: { kind: 'Pod', namespace: ns, name: `${name}-pod-${j}`, uid: uid(2, i, j) },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  })) as EndpointSlice & HasMetadata;
}

/** Lists of fresh objects every time (as from the wire), paged as asked, and a watch that stays quiet until closed. */
class Generated<T extends HasMetadata> implements ListerWatcher<T> {
  readonly #make: (i: number) => T;
  constructor(make: (i: number) => T) {
    this.#make = make;
  }
  async list(o: ListOptions): Promise<ObjectList<T>> {
    const from = Number(o.continue ?? 0);
    const to = Math.min(N, o.limit ? from + o.limit : N);
    return { metadata: { resourceVersion: '99999', continue: to < N ? String(to) : undefined }, items: Array.from({ length: to - from }, (_, i) => this.#make(from + i)) };
  }
  async watch(): Promise<AsyncIterable<WatchEvent<T>> & { close(): void }> {
    let close = (): void => {};
    const closed = new Promise<void>((r) => (close = r));
    return {
      async *[Symbol.asyncIterator]() {
        await closed;
      },
      close,
    };
  }
}

function usage(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
}
const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

const lab = new NetnsLab('pm');
const informers: Array<{ start(): void; stop(): Promise<void> }> = [];
let proxier: Proxier | undefined;
let dns: ClusterDNS | undefined;
try {
  const ns = await lab.ns('node');
  const sources = { services: new Generated(apiService), slices: new Generated(apiSlice) };
  const before = usage();
  const node = { name: 'node-0', addresses: ['10.0.0.1'], podCIDR: '10.244.0.0/24' };
  const runner = new CommandRunner({ prefix: ['ip', 'netns', 'exec', ns] });
  let proxySources: { services: Informer<Service & HasMetadata>; slices: Informer<EndpointSlice & HasMetadata> };
  if (values.layout === 'shared') {
    const { serviceInformers } = await import('../src/proxy/informers.ts');
    const shared = serviceInformers(sources);
    proxySources = shared;
    dns = new ClusterDNS(shared, { host: '127.0.0.1', port: 0, upstreams: [] });
  } else {
    proxySources = { services: new Informer(sources.services), slices: new Informer(sources.slices) };
    dns = new ClusterDNS({ services: transformListWatch(sources.services, trimServiceForDNS), slices: transformListWatch(sources.slices, trimSliceForDNS) }, { host: '127.0.0.1', port: 0, upstreams: [] });
  }
  informers.push(proxySources.services, proxySources.slices);
  proxier = new Proxier({ services: proxySources.services, slices: proxySources.slices, node, runner, fullSyncPeriodMs: 3_600_000 });
  const t0 = performance.now();
  await dns.start();
  for (const i of informers) i.start();
  await Promise.all([dns.waitForSync(), proxier.start()]);
  const syncedMs = performance.now() - t0;
  const after = usage();
  // The runner's `nft -i` is this process's child (ip netns exec execs it).
  const nft = execFileSync('ps', ['-o', 'rss=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number).reduce((a, b) => a + b, 0);
  console.log(`services-memory: ${N} Services × 10 endpoints, layout ${values.layout}, proxy and DNS synced in ${Math.round(syncedMs)} ms`);
  console.log(`  heap after GC   +${mib(after.heapUsed - before.heapUsed)} MiB (${mib(before.heapUsed)} → ${mib(after.heapUsed)})`);
  console.log(`  RSS             +${mib(after.rss - before.rss)} MiB (${mib(before.rss)} → ${mib(after.rss)}); nft -i helper ${(nft / 1024).toFixed(1)} MiB`);
  // The agent then idles: V8's memory reducer may give back what the first sync's peak left.
  const idle = Number(values.idle);
  if (idle > 0) {
    await new Promise((r) => setTimeout(r, idle * 1000));
    console.log(`  after ${idle} s idle: RSS +${mib(process.memoryUsage().rss - before.rss)} MiB (no GC asked for)`);
  }
  console.log(`  load average    ${load()}`);
} finally {
  await proxier?.stop();
  await dns?.stop();
  await Promise.all(informers.map((i) => i.stop()));
  await lab.cleanup();
}
