import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, rfc3339 } from '../../util/clock.ts';
import { makePod } from '../../testing/objects.ts';
import type { ContainerStats as CriContainerStats } from '../runtime/runtime.ts';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../podworkers/labels.ts';
import { claimOf, cpuAndMemoryOnly, isLocalEphemeralVolume, SummaryProvider, volumeMetrics, type StatsPod } from './summary.ts';
import type { Volume } from '../../api/types.ts';
import { diskUsage } from './usage.ts';

async function fill(dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'data'), Buffer.alloc(bytes, 7));
}

describe('volume classification', () => {
  const cases: Array<[Volume, string, boolean, string | undefined]> = [
    [{ name: 'e', emptyDir: {} }, 'du', true, undefined],
    [{ name: 'm', emptyDir: { medium: 'Memory' } }, 'du', false, undefined],
    [{ name: 'c', configMap: { name: 'x' } }, 'du', true, undefined],
    [{ name: 's', secret: { secretName: 'x' } }, 'du', false, undefined],
    [{ name: 'p', projected: { sources: [] } }, 'du', false, undefined],
    [{ name: 'd', downwardAPI: {} }, 'du', false, undefined],
    [{ name: 'v', persistentVolumeClaim: { claimName: 'claim' } }, 'du', false, 'claim'],
    [{ name: 'g', ephemeral: {} }, 'du', false, 'web-g'],
    [{ name: 'n', nfs: { server: 'h', path: '/x' } }, 'statfs', false, undefined],
    [{ name: 'h', hostPath: { path: '/x' } }, 'none', false, undefined],
  ];
  for (const [v, metrics, local, claim] of cases) {
    it(`${Object.keys(v).filter((k) => k !== 'name')[0]}${v.emptyDir?.medium ? ` (${v.emptyDir.medium})` : ''}`, () => {
      assert.equal(volumeMetrics(v), metrics);
      assert.equal(isLocalEphemeralVolume(v), local);
      assert.equal(claimOf(makePod('web').build(), v), claim);
    });
  }
});

describe('SummaryProvider', () => {
  it('the kubelet Summary shape: node fs, containers, volumes with pvcRef, ephemeral storage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tk-summary-'));
    try {
      const clock = new FakeClock();
      const vols = join(dir, 'pods', 'uid-web', 'volumes');
      const paths = {
        cache: join(vols, 'kubernetes.io~empty-dir', 'cache'),
        cfg: join(vols, 'kubernetes.io~configmap', 'cfg'),
        data: join(vols, 'kubernetes.io~local-path', 'data'),
        scratch: join(vols, 'kubernetes.io~ephemeral', 'scratch'),
        host: join(dir, 'host'),
      };
      await fill(paths.cache, 40_000);
      await fill(paths.cfg, 100);
      await fill(paths.data, 70_000);
      await fill(paths.scratch, 10);
      await fill(paths.host, 1_000_000);
      const logDir = join(dir, 'logs', 'default_web_uid-web');
      await fill(join(logDir, 'app'), 5000);
      const etcHosts = join(dir, 'pods', 'uid-web', 'etc-hosts');
      await writeFile(etcHosts, '127.0.0.1\tlocalhost\n');
      const pod = makePod('web').uid('uid-web').container({ name: 'app' }).container({ name: 'idle' })
        .with((p) => {
          p.status = { startTime: '2026-01-01T00:00:00Z' };
          p.spec!.volumes = [
            { name: 'cache', emptyDir: { sizeLimit: '1Mi' } },
            { name: 'cfg', configMap: { name: 'cfg' } },
            { name: 'data', persistentVolumeClaim: { claimName: 'data-web' } },
            { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
            { name: 'host', hostPath: { path: paths.host } },
            { name: 'unset', emptyDir: {} },
          ];
        })
        .build();
      const started = clock.now() - 60_000;
      const sp: StatsPod = { pod, volumes: new Map(Object.entries(paths)), logDir, etcHosts, started: new Map([['app', started]]) };
      const cri: CriContainerStats[] = [{
        id: 'c1', name: 'app', labels: { [LABEL_POD_UID]: 'uid-web', [LABEL_CONTAINER_NAME]: 'app' }, timestamp: clock.now(),
        cpuUsageCoreNanoSeconds: 2_000_000_000, cpuUsageNanoCores: 1_000_000, memoryWorkingSetBytes: 3 * 2 ** 20, memoryUsageBytes: 4 * 2 ** 20, memoryRssBytes: 2 ** 20, writableLayerUsedBytes: 12_288,
      }];
      let listed = 0;
      const provider = new SummaryProvider({
        nodeName: 'node-1',
        clock,
        rootDir: dir,
        runtime: { listContainerStats: async () => (listed++, cri) },
        pods: { activePods: () => [sp] },
        machine: async () => ({ cpu: { usageCoreNanoSeconds: 9 }, memory: { workingSetBytes: 10 } }),
        bootTime: Date.UTC(2025, 11, 31),
        cacheMs: 5000,
      });
      const s = await provider.get();
      const time = rfc3339(clock.now());
      assert.equal(s.node.nodeName, 'node-1');
      assert.equal(s.node.startTime, '2025-12-31T00:00:00Z');
      assert.deepEqual(s.node.cpu, { time, usageCoreNanoSeconds: 9 });
      assert.deepEqual(Object.keys(s.node.fs!).sort(), ['availableBytes', 'capacityBytes', 'inodes', 'inodesFree', 'inodesUsed', 'time', 'usedBytes']);
      assert.equal(s.pods.length, 1);
      const p = s.pods[0]!;
      assert.deepEqual(p.podRef, { name: 'web', namespace: 'default', uid: 'uid-web' });
      assert.equal(p.startTime, '2026-01-01T00:00:00Z');
      // Only the container that ran has stats.
      assert.deepEqual(p.containers.map((c) => c.name), ['app']);
      const c = p.containers[0]!;
      assert.equal(c.startTime, rfc3339(started));
      assert.deepEqual(c.cpu, { time, usageNanoCores: 1_000_000, usageCoreNanoSeconds: 2_000_000_000 });
      assert.deepEqual(c.memory, { time, usageBytes: 4 * 2 ** 20, workingSetBytes: 3 * 2 ** 20, rssBytes: 2 ** 20 });
      assert.equal(c.rootfs?.usedBytes, 12_288);
      assert.equal(c.logs?.usedBytes, (await diskUsage(join(logDir, 'app'))).bytes);
      assert.deepEqual(p.cpu, c.cpu);
      // Ephemeral volumes first, then claims; no hostPath, nothing for a volume not set up.
      assert.deepEqual(p.volume?.map((v) => [v.name, v.pvcRef]), [
        ['cache', undefined], ['cfg', undefined], ['data', { name: 'data-web', namespace: 'default' }], ['scratch', { name: 'web-scratch', namespace: 'default' }],
      ]);
      const cache = p.volume![0]!;
      assert.equal(cache.usedBytes, (await diskUsage(paths.cache)).bytes);
      assert.equal(cache.inodesUsed, 2);
      assert.ok((cache.capacityBytes ?? 0) > 0 && (cache.availableBytes ?? 0) > 0 && (cache.inodes ?? 0) > 0);
      // Ephemeral storage: writable layer + pod logs + etc-hosts + the volumes that are not claims.
      const want = 12_288 + (await diskUsage(logDir)).bytes + (await lstat(etcHosts)).blocks * 512 + (await diskUsage(paths.cache)).bytes + (await diskUsage(paths.cfg)).bytes;
      assert.equal(p['ephemeral-storage']?.usedBytes, want);
      assert.equal(p['ephemeral-storage']?.capacityBytes, s.node.fs?.capacityBytes);

      // Cached for cacheMs; maxAgeMs 0 measures again.
      assert.equal(await provider.get(), s);
      clock.advance(4000);
      assert.equal(await provider.get(), s);
      assert.notEqual(await provider.get(0), s);
      assert.equal(listed, 2);
      const [a, b] = await Promise.all([provider.get(0), provider.get(0)]);
      assert.equal(a, b, 'concurrent callers share one measurement');

      // A fresh summary re-walks the emptyDir at once; a claim only after the volume stats period.
      const used = (sum: typeof s, name: string) => sum.pods[0]!.volume!.find((v) => v.name === name)!.usedBytes;
      await writeFile(join(paths.cache, 'more'), Buffer.alloc(50_000, 1));
      await writeFile(join(paths.data, 'more'), Buffer.alloc(50_000, 1));
      const s2 = await provider.get(0);
      assert.equal(used(s2, 'cache'), (await diskUsage(paths.cache)).bytes);
      assert.equal(used(s2, 'data'), used(s, 'data'));
      clock.advance(60_000);
      assert.equal(used(await provider.get(0), 'data'), (await diskUsage(paths.data)).bytes);

      assert.deepEqual(cpuAndMemoryOnly(s).pods[0], {
        podRef: p.podRef, startTime: p.startTime, containers: [{ name: 'app', startTime: c.startTime, cpu: c.cpu, memory: c.memory }], cpu: p.cpu, memory: p.memory,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
