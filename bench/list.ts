// LIST benchmark: an in-process control plane with N pods (default 150,000) written straight through
// the registry, then the time to LIST all pods over HTTPS: one JSON request, JSON in pages of 500,
// and Table in pages of 500 (what `kubectl get pods -A` asks for), with and without gzip.
//
// The client runs in the same process as the server, so its own parsing (and gunzip) is part of each
// figure; compare runs with each other rather than with a remote client.
//
// Usage: node bench/list.ts [--pods 150000] [--dir DIR (reuse/keep the data dir)] [--rounds 1]
//          [--only json,json-gzip,pages,pages-gzip,table,table-gzip] [--writes]
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { KubeObject } from '../src/api/types.ts';
import { startControlPlane } from '../src/cmd/controlplane.ts';
import { BenchClient } from './lib/https.ts';
import { benchPod } from './lib/pod.ts';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const pods = Number(arg('--pods') ?? 150_000);
const rounds = Number(arg('--rounds') ?? 1);
const keep = arg('--dir');
const dir = keep ?? mkdtempSync(join(tmpdir(), 'tk-bench-list-'));
const fresh = !existsSync(join(dir, 'state.db'));

const cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
try {
  const store = cp.registry.store('pods');
  const have = await store.count();
  if (have < pods) {
    const t0 = performance.now();
    const namespaces = 20;
    for (let n = 0; n < namespaces; n++) {
      await cp.registry.store('namespaces').create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}` } }).catch(() => undefined);
    }
    for (let i = have; i < pods; i++) {
      const p = benchPod(`pod-${String(i).padStart(7, '0')}`, i) as KubeObject & { spec: Record<string, unknown> };
      p.spec.nodeName = `node-${i % 5000}`;
      await store.create(`ns-${i % namespaces}`, p);
    }
    console.log(`created ${pods - have} pods in ${((performance.now() - t0) / 1000).toFixed(1)} s${fresh ? '' : ' (added to existing dir)'}`);
  }
  const http = new BenchClient({ port: cp.port, ca: cp.pki.caCertPem, token: cp.pki.adminToken }, 1);
  const listAll = async (accept: string, limit: number | undefined, gzip: boolean) => {
    const t0 = performance.now();
    let bytes = 0, items = 0, pages = 0, cont = '';
    do {
      const q = new URLSearchParams();
      if (limit) q.set('limit', String(limit));
      if (cont) q.set('continue', cont);
      const h: Record<string, string> = { Accept: accept };
      if (gzip) h['Accept-Encoding'] = 'gzip';
      const r = await http.expect(200, 'GET', `/api/v1/pods${q.size ? `?${q}` : ''}`, undefined, h);
      let body = r.body;
      bytes += body.length;
      if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
      pages++;
      const doc = JSON.parse(body.toString('utf8')) as { items?: unknown[]; rows?: unknown[]; metadata?: { continue?: string } };
      items += (doc.items ?? doc.rows ?? []).length;
      cont = doc.metadata?.continue ?? '';
    } while (cont);
    return `${((performance.now() - t0) / 1000).toFixed(2)} s, ${pages} pages, ${items} items, ${(bytes / 2 ** 20).toFixed(1)} MiB`;
  };
  const modes: Array<[string, string, string, number | undefined, boolean]> = [
    ['json', 'JSON, one request:         ', 'application/json', undefined, false],
    ['json-gzip', 'JSON, one request, gzip:   ', 'application/json', undefined, true],
    ['pages', 'JSON, pages of 500:        ', 'application/json', 500, false],
    ['pages-gzip', 'JSON, pages of 500, gzip:  ', 'application/json', 500, true],
    ['table', 'Table, pages of 500:       ', TABLE_ACCEPT, 500, false],
    ['table-gzip', 'Table, pages of 500, gzip: ', TABLE_ACCEPT, 500, true],
  ];
  const only = arg('--only')?.split(',');
  // --writes: a pod is updated every 10 ms while listing, so pages after the first read an older
  // revision than the current one (as on a live cluster).
  let writer: NodeJS.Timeout | undefined;
  if (process.argv.includes('--writes')) {
    let w = 0;
    writer = setInterval(() => {
      const i = (w++ * 7919) % pods;
      void store.guaranteedUpdate(`ns-${i % 20}`, `pod-${String(i).padStart(7, '0')}`, (o) => {
        (o.metadata!.annotations ??= {})['bench/touch'] = String(w);
        return o;
      });
    }, 10);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [id, label, accept, limit, gzip] of modes) {
      if (!only || only.includes(id)) console.log(`${label} ${await listAll(accept, limit, gzip)}`);
    }
  }
  clearInterval(writer);
  http.close();
} finally {
  await cp.close();
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
