import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../api/types.ts';
import { checkHostPath, joinMountOptions, mountArgs, mountFailedMessage, nfsSource, VolumeError, VolumeManager } from './manager.ts';
import { MapConfigSource } from './sources.ts';

function podWith(volumes: NonNullable<Pod['spec']>['volumes']): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'uid-1' }, spec: { containers: [], volumes } };
}

describe('VolumeManager', () => {
  it('projects configMap keys with items and modes, and swaps updates in atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-vol-'));
    try {
      const src = new MapConfigSource();
      src.configMaps.set('ns/cfg', { data: { 'a.conf': 'one', b: 'two' } });
      const vm = new VolumeManager({ root: dir, source: src, mounts: false });
      const pod = podWith([
        { name: 'all', configMap: { name: 'cfg', defaultMode: 0o600 } },
        { name: 'some', configMap: { name: 'cfg', items: [{ key: 'b', path: 'sub/bee', mode: 0o640 }] } },
      ]);
      const v = await vm.setUp(pod);
      const all = v.get('all')!;
      assert.equal(all.readOnly, true);
      assert.equal(readFileSync(join(all.hostPath, 'a.conf'), 'utf8'), 'one');
      assert.equal(statSync(join(all.hostPath, 'a.conf')).mode & 0o777, 0o600);
      assert.equal(readlinkSync(join(all.hostPath, 'a.conf')), '..data/a.conf');
      const some = v.get('some')!;
      assert.equal(readFileSync(join(some.hostPath, 'sub/bee'), 'utf8'), 'two');
      assert.equal(statSync(join(some.hostPath, 'sub/bee')).mode & 0o777, 0o640);
      const before = readlinkSync(join(all.hostPath, '..data'));
      src.configMaps.set('ns/cfg', { data: { 'a.conf': 'ONE', b: 'two' } });
      await vm.setUp(pod);
      assert.equal(readFileSync(join(all.hostPath, 'a.conf'), 'utf8'), 'ONE');
      assert.notEqual(readlinkSync(join(all.hostPath, '..data')), before);
      src.configMaps.set('ns/cfg', { data: { 'a.conf': 'ONE' } });
      await assert.rejects(vm.setUp(pod), (e: unknown) => e instanceof VolumeError && /configmap references non-existent config key: b/.test(e.message));
      await vm.tearDown('uid-1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('decodes secrets and fails on a missing one unless optional', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-vol-'));
    try {
      const src = new MapConfigSource();
      src.secrets.set('ns/s', { data: { password: Buffer.from('hunter2').toString('base64') } });
      const vm = new VolumeManager({ root: dir, source: src, mounts: false });
      const v = await vm.setUp(podWith([{ name: 's', secret: { secretName: 's' } }, { name: 'o', secret: { secretName: 'nope', optional: true } }]));
      assert.equal(readFileSync(join(v.get('s')!.hostPath, 'password'), 'utf8'), 'hunter2');
      await assert.rejects(vm.setUp(podWith([{ name: 'cfg', configMap: { name: 'missing' } }])), {
        message: 'MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('makes emptyDirs world-writable under the pod dir and removes them with the pod', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-vol-'));
    try {
      const vm = new VolumeManager({ root: dir, source: new MapConfigSource(), mounts: false });
      const v = await vm.setUp(podWith([{ name: 'scratch', emptyDir: {} }]));
      const p = v.get('scratch')!.hostPath;
      assert.equal(p, join(dir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~empty-dir', 'scratch'));
      assert.equal(statSync(p).mode & 0o777, 0o777);
      await vm.tearDown('uid-1');
      assert.throws(() => statSync(join(dir, 'pods', 'uid-1')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('hostPath type checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-hp-'));
  const file = join(dir, 'f');
  writeFileSync(file, 'x');
  mkdirSync(join(dir, 'd'));
  const cases: { type: string; path: string; ok: boolean; msg?: RegExp }[] = [
    { type: '', path: join(dir, 'absent'), ok: true },
    { type: 'Directory', path: join(dir, 'd'), ok: true },
    { type: 'Directory', path: file, ok: false, msg: /is not a directory/ },
    { type: 'DirectoryOrCreate', path: join(dir, 'new/deep'), ok: true },
    { type: 'File', path: file, ok: true },
    { type: 'File', path: join(dir, 'd'), ok: false, msg: /is not a file/ },
    { type: 'FileOrCreate', path: join(dir, 'made'), ok: true },
    { type: 'Socket', path: file, ok: false, msg: /is not a socket file/ },
    { type: 'CharDevice', path: '/dev/null', ok: true },
    { type: 'BlockDevice', path: '/dev/null', ok: false, msg: /is not a block device/ },
  ];
  for (const c of cases) {
    it(`${c.type || '(none)'} ${c.ok ? 'accepts' : 'rejects'} ${c.path.replace(dir, '')}`, async () => {
      if (c.ok) assert.equal(await checkHostPath('v', c.path, c.type), c.path);
      else await assert.rejects(checkHostPath('v', c.path, c.type), (e: unknown) => e instanceof VolumeError && c.msg!.test(e.message));
    });
  }
  it('created what *OrCreate asked for', () => {
    assert.ok(statSync(join(dir, 'new/deep')).isDirectory());
    assert.ok(statSync(join(dir, 'made')).isFile());
  });
  it('cleans up', async () => rm(dir, { recursive: true, force: true }));
});

describe('mount failures in the kubelet\'s words', () => {
  it('builds mount(8) arguments as mount-utils does, options only when there are some', () => {
    assert.deepEqual(mountArgs('nfs', [], '10.0.0.5:/exports', '/p/v'), ['-t', 'nfs', '10.0.0.5:/exports', '/p/v']);
    assert.deepEqual(mountArgs('nfs', ['ro'], '10.0.0.5:/exports', '/p/v'), ['-t', 'nfs', '-o', 'ro', '10.0.0.5:/exports', '/p/v']);
  });

  it('joins a PV\'s mountOptions with the plugin\'s, sorted and without repeats', () => {
    const cases: [string[], string[], string[]][] = [
      [[], [], []],
      [[], ['ro'], ['ro']],
      [['nfsvers=4.1', 'hard'], ['ro'], ['hard', 'nfsvers=4.1', 'ro']],
      [['ro'], ['ro'], ['ro']],
    ];
    for (const [user, system, want] of cases) assert.deepEqual(joinMountOptions(user, system), want);
  });

  it('writes the NFS source with brackets around an IPv6 server', () => {
    assert.equal(nfsSource('nfs.example', '/srv/share'), 'nfs.example:/srv/share');
    assert.equal(nfsSource('fd00::5', '/srv/share'), '[fd00::5]:/srv/share');
  });

  it('carries mount.nfs\'s own error into the FailedMount message', () => {
    const args = mountArgs('nfs', [], '192.0.2.9:/exports', '/var/lib/tinykube/pods/u/volumes/kubernetes.io~nfs/data');
    const err = new VolumeError('data', mountFailedMessage(32, 'Command failed', args, 'mount.nfs: Connection refused\n'));
    assert.equal(
      err.message,
      'MountVolume.SetUp failed for volume "data" : mount failed: exit status 32\n' +
        'Mounting command: mount\n' +
        'Mounting arguments: -t nfs 192.0.2.9:/exports /var/lib/tinykube/pods/u/volumes/kubernetes.io~nfs/data\n' +
        'Output: mount.nfs: Connection refused\n',
    );
  });

  it('says why when mount(8) could not even run', () => {
    assert.match(mountFailedMessage('ENOENT', 'spawn mount ENOENT', ['-t', 'nfs', 's:/p', '/d'], ''), /^mount failed: spawn mount ENOENT\n/);
  });
});
