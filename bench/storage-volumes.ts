// Pods with a claim on the default class against the same pods with an emptyDir (issue 15): create →
// Running as a watch sees it, on `tinykube up` (a child process, real containerd). A claim pod's clock
// starts when its PersistentVolumeClaim is sent (a user applies both together), so its time includes
// the WaitForFirstConsumer round: scheduling, the selected-node annotation, provisioning, the PV
// controller's binding, the scheduler's PreBind seeing it bound, then the agent making the directory.
//
// The two kinds run in alternating waves of W pods at once (emptyDir wave, claim wave, ...), so the
// machine's noise falls on both alike; between waves everything is deleted and the next wave waits for
// the agent (and, for claims, the local-path deleter) to finish. Prints p50/p99 per kind and their
// ratios (target: claims ≤ 1.2× emptyDir), with the load average. Asserts nothing.
//
// Usage: node bench/storage-volumes.ts [--pods=100] [--wave=10] [--quick]
//   --quick  20 pods of each kind in waves of 5 (a smoke test of the bench itself)

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiClient } from '../src/client/client.ts';
import { PersistentVolumeClaims, PersistentVolumes, Pods } from '../src/client/resources.ts';
import type { PersistentVolumeClaim, Pod } from '../src/api/types.ts';
import { BUSYBOX_IMAGE } from '../src/kubelet/images/builtin.ts';
import { dur, printGrid, ratio } from './lib/grid.ts';
import { NodeWatch } from './lib/node-watch.ts';
import { PodWatch, type PodTimes } from './lib/pod-watch.ts';
import { percentile } from './lib/stats.ts';
import { UpChild } from './lib/up-child.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const N = Number(arg('pods') ?? (quick ? 20 : 100));
const W = Number(arg('wave') ?? (quick ? 5 : 10));
const LABEL = 'bench.tinykube.io/volumes';
const runId = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'tk-bench-volumes-'));
const log = (s: string) => console.log(`  ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'emptyDir' | 'claim';

function pod(name: string, kind: Kind): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { [LABEL]: 'true' } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [kind === 'claim' ? { name: 'data', persistentVolumeClaim: { claimName: name } } : { name: 'data', emptyDir: {} }],
    },
  };
}

function claim(name: string): PersistentVolumeClaim {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, labels: { [LABEL]: 'true' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } } };
}

async function create(client: ApiClient, watch: PodWatch, name: string, kind: Kind): Promise<PodTimes> {
  const t = watch.track(name);
  t.createStart = performance.now();
  if (kind === 'claim') await client.create(PersistentVolumeClaims, 'default', claim(name));
  const created = await client.create(Pods, 'default', pod(name, kind));
  t.created = performance.now();
  t.uid = created.metadata?.uid;
  return t;
}

/** Deletes a wave's pods (and claims) and waits until their volumes and directories are gone too. */
async function cleanup(client: ApiClient, watch: PodWatch, up: UpChild, names: readonly string[], kind: Kind): Promise<void> {
  await Promise.all(names.map((n) => client.delete(Pods, 'default', n, { gracePeriodSeconds: 0 })));
  await watch.waitDeleted(names);
  watch.forget(names);
  if (kind === 'claim') await Promise.all(names.map((n) => client.delete(PersistentVolumeClaims, 'default', n)));
  const storage = join(up.dataDir, 'agent', 'storage');
  const end = performance.now() + 120_000;
  for (;;) {
    const claims = (await client.list<PersistentVolumeClaim>(PersistentVolumeClaims, 'default', { labelSelector: `${LABEL}=true` })).items.length;
    const volumes = (await client.list(PersistentVolumes)).items.length;
    const dirs = existsSync(storage) ? readdirSync(storage).length : 0;
    const podDirs = readdirSync(join(up.dataDir, 'agent', 'pods')).length;
    if (claims === 0 && volumes === 0 && dirs === 0 && podDirs === 0) return;
    if (performance.now() > end) throw new Error(`not cleaned up after 120 s: ${claims} claims, ${volumes} volumes, ${dirs} directories, ${podDirs} pod dirs`);
    await sleep(100);
  }
}

const nodeName = `bench-volumes-${runId}`;
const up = UpChild.spawn({ dataDir: join(dir, 'up'), nodeName });
const times: Record<Kind, number[]> = { emptyDir: [], claim: [] };
const walls: Record<Kind, number[]> = { emptyDir: [], claim: [] };
const load: number[] = [];
try {
  const client = await up.api();
  const nodes = new NodeWatch(nodeName);
  await nodes.start(client);
  await nodes.waitReady();
  await up.waitUp();
  await nodes.close();
  const watch = await PodWatch.open(client, 'default', `${LABEL}=true`);
  // Warm-up: one of each (first sync paths, first provisioning), not counted.
  for (const kind of ['emptyDir', 'claim'] as const) {
    const name = `warm-${kind.toLowerCase()}-${runId}`;
    await create(client, watch, name, kind);
    await watch.waitRunning([name]);
    await cleanup(client, watch, up, [name], kind);
  }
  const waves = Math.ceil(N / W);
  for (let w = 0; w < waves; w++) {
    for (const kind of ['emptyDir', 'claim'] as const) {
      const names = Array.from({ length: Math.min(W, N - w * W) }, (_, i) => `${kind.toLowerCase()}-${runId}-${w}-${i}`);
      const t0 = performance.now();
      const ts = await Promise.all(names.map((n) => create(client, watch, n, kind)));
      await watch.waitRunning(names, 300_000);
      walls[kind].push(Math.max(...ts.map((t) => t.running!)) - t0);
      for (const t of ts) times[kind].push(t.running! - t.createStart);
      load.push(loadavg()[0]!);
      await cleanup(client, watch, up, names, kind);
    }
    log(`wave ${w + 1}/${waves} done (load ${loadavg()[0]!.toFixed(2)})`);
  }
  watch.close();
  client.close();
  const p = (k: Kind, q: number) => percentile(times[k], q);
  const wall = (k: Kind) => percentile(walls[k], 50);
  printGrid(
    `Pod create → Running with a volume, ${N} pods of each kind in waves of ${W} (tinykube up, one node)`,
    ['volume', 'pods', 'p50', 'p99', 'wave wall p50'],
    [
      ['emptyDir', String(times.emptyDir.length), dur(p('emptyDir', 50)), dur(p('emptyDir', 99)), dur(wall('emptyDir'))],
      ['claim on local-path (WaitForFirstConsumer)', String(times.claim.length), dur(p('claim', 50)), dur(p('claim', 99)), dur(wall('claim'))],
      ['ratio claim / emptyDir', '', ratio(p('claim', 50), p('emptyDir', 50)), ratio(p('claim', 99), p('emptyDir', 99)), ratio(wall('claim'), wall('emptyDir'))],
    ],
    [`target: claim ≤ 1.2× emptyDir (issue 15). Load average (1 min) during the waves: median ${percentile(load, 50).toFixed(2)}, max ${Math.max(...load).toFixed(2)}.`],
  );
} finally {
  log(`tinykube up stopped in ${dur(await up.stop())}`);
  rmSync(dir, { recursive: true, force: true });
}
