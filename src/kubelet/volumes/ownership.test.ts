// fsGroup ownership (SetVolumeOwnership). Needs root to chown to another group; skipped otherwise.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../api/types.ts';
import { VolumeManager } from './manager.ts';
import { rootMatches, setVolumeOwnership } from './ownership.ts';
import { MapConfigSource } from './sources.ts';

const root = process.getuid?.() === 0;
const GID = 4321;
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tk-own-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const perm = (p: string) => statSync(p).mode & 0o7777;

describe('setVolumeOwnership', { skip: !root && 'needs root to chown' }, () => {
  it('gives every file the group, rw for it, and directories setgid', async () => {
    mkdirSync(join(dir, 'sub'), { mode: 0o700 });
    writeFileSync(join(dir, 'sub', 'f'), 'x', { mode: 0o600 });
    symlinkSync('sub/f', join(dir, 'link'));
    chmodSync(join(dir, 'sub'), 0o700);
    chmodSync(join(dir, 'sub', 'f'), 0o600);
    await setVolumeOwnership(dir, GID, undefined, false);
    assert.equal(statSync(join(dir, 'sub', 'f')).gid, GID);
    assert.equal(perm(join(dir, 'sub', 'f')), 0o660);
    assert.equal(perm(join(dir, 'sub')), 0o2770);
    assert.equal(lstatSync(join(dir, 'link')).gid, GID, 'links are lchown-ed, not chmod-ed');
    assert.equal(await rootMatches(dir, GID, false), true);
  });

  it('read-only volumes get read for the group only', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    chmodSync(join(dir, 'f'), 0o600);
    await setVolumeOwnership(dir, GID, undefined, true);
    assert.equal(perm(join(dir, 'f')), 0o640);
  });

  const policies: { policy: string | undefined; rootMatching: boolean; walked: boolean }[] = [
    { policy: 'OnRootMismatch', rootMatching: true, walked: false },
    { policy: 'OnRootMismatch', rootMatching: false, walked: true },
    { policy: 'Always', rootMatching: true, walked: true },
    { policy: undefined, rootMatching: true, walked: true },
  ];
  for (const p of policies) {
    it(`${p.policy ?? '(no policy)'} with the root ${p.rootMatching ? 'already' : 'not'} matching ${p.walked ? 'walks' : 'skips'} the volume`, async () => {
      writeFileSync(join(dir, 'f'), 'x');
      chmodSync(join(dir, 'f'), 0o600);
      if (p.rootMatching) {
        chownSync(dir, -1, GID);
        chmodSync(dir, 0o2770);
      }
      await setVolumeOwnership(dir, GID, p.policy, false);
      assert.equal(statSync(join(dir, 'f')).gid === GID, p.walked);
    });
  }

  it('is applied to emptyDir and configMap volumes, not hostPath', async () => {
    const src = new MapConfigSource();
    src.configMaps.set('ns/cfg', { data: { k: 'v' } });
    const host = join(dir, 'host');
    mkdirSync(host);
    const vm = new VolumeManager({ root: join(dir, 'agent'), source: src, mounts: false });
    const pod: Pod = {
      metadata: { name: 'p', namespace: 'ns', uid: 'u' },
      spec: {
        containers: [],
        securityContext: { fsGroup: GID },
        volumes: [{ name: 'e', emptyDir: {} }, { name: 'c', configMap: { name: 'cfg' } }, { name: 'h', hostPath: { path: host } }],
      },
    };
    const v = await vm.setUp(pod);
    assert.equal(statSync(v.get('e')!.hostPath).gid, GID);
    assert.equal(perm(v.get('e')!.hostPath), 0o2777);
    assert.equal(statSync(join(v.get('c')!.hostPath, 'k')).gid, GID);
    assert.notEqual(statSync(host).gid, GID);
    // A file a container makes later keeps what it was given: ownership is changed at mount, not on resyncs.
    const later = join(v.get('e')!.hostPath, 'later');
    writeFileSync(later, 'x');
    chownSync(later, -1, 0);
    chmodSync(later, 0o600);
    await vm.setUp(pod);
    assert.equal(statSync(later).gid, 0);
    assert.equal(perm(later), 0o600);
    // New configMap contents are new files: changed again.
    src.configMaps.set('ns/cfg', { data: { k: 'v2' } });
    await vm.setUp(pod);
    assert.equal(statSync(join(v.get('c')!.hostPath, 'k')).gid, GID);
  });
});
