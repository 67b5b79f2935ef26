// subPath resolution against links a container leaves in a volume (CVE-2017-1002101, CVE-2021-25741),
// on temp directories; the bind-mount cases need root (the agent's own privilege) and are skipped
// without it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VolumeManager } from './manager.ts';
import { MapConfigSource } from './sources.ts';
import { isMountPoint, mountsUnder } from './mountinfo.ts';
import { prepareSubPath, safeOpen, subPathBindTarget, type SubPathOptions, type SubPathOutcome, type SubPathRequest } from './subpath.ts';

const PREPARE_FAILED = 'failed to prepare subPath for volumeMount "vol" of container "app"';
const CREATE_FAILED = 'failed to create subPath directory for volumeMount "vol" of container "app"';
const notRoot = process.getuid?.() !== 0 ? 'bind mounts need root' : false;

interface Fixture {
  dir: string;
  /** The volume's directory (mode 0777, as an emptyDir). */
  vol: string;
  /** A directory outside the volume, holding `secret`. */
  outside: string;
  podDir: string;
  req(subPath: string, more?: Partial<SubPathRequest>): SubPathRequest;
  close(): Promise<void>;
}

function fixture(): Fixture {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tk-subpath-')));
  const vol = join(dir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~empty-dir', 'vol');
  const outside = join(dir, 'outside');
  mkdirSync(vol, { recursive: true });
  chmodSync(vol, 0o777);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'host secret');
  const podDir = join(dir, 'pods', 'uid-1');
  return {
    dir, vol, outside, podDir,
    req: (subPath, more) => ({ volumeName: 'vol', volumePath: vol, subPath, podDir, containerName: 'app', mountIndex: 0, create: true, ...more }),
    async close() {
      for (const mp of mountsUnder(dir)) await import('node:child_process').then((cp) => cp.execFileSync('umount', ['-l', mp]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function refused(r: SubPathOutcome): { message: string; detail: string } {
  assert.equal(r.ok, false, `expected a refusal, got ${JSON.stringify(r)}`);
  return r as { ok: false; message: string; detail: string };
}

function accepted(r: SubPathOutcome): string {
  assert.equal(r.ok, true, `expected success, got ${JSON.stringify(r)}`);
  return (r as { ok: true; hostPath: string }).hostPath;
}

const noMounts: SubPathOptions = { mounts: false };

describe('prepareSubPath: links that stay inside the volume', () => {
  const cases: { name: string; setup: (f: Fixture) => void; subPath: string; expect: (f: Fixture) => string }[] = [
    { name: 'an existing directory', subPath: 'data', setup: (f) => mkdirSync(join(f.vol, 'data')), expect: (f) => join(f.vol, 'data') },
    { name: 'the volume itself', subPath: '.', setup: () => undefined, expect: (f) => f.vol },
    {
      name: 'nested relative links within the volume',
      subPath: 'link/cfglink',
      setup: (f) => {
        mkdirSync(join(f.vol, 'real', 'cfg'), { recursive: true });
        symlinkSync('real', join(f.vol, 'link'));
        symlinkSync('../real/cfg', join(f.vol, 'real', 'cfglink'));
      },
      expect: (f) => join(f.vol, 'real', 'cfg'),
    },
    {
      name: 'an absolute link that points back into the volume',
      subPath: 'abs',
      setup: (f) => {
        mkdirSync(join(f.vol, 'target'));
        symlinkSync(join(f.vol, 'target'), join(f.vol, 'abs'));
      },
      expect: (f) => join(f.vol, 'target'),
    },
    {
      name: "a configMap key (key -> ..data/key, ..data -> ..<stamp>)",
      subPath: 'key',
      setup: (f) => {
        mkdirSync(join(f.vol, '..2026_01_01'));
        writeFileSync(join(f.vol, '..2026_01_01', 'key'), 'value');
        symlinkSync('..2026_01_01', join(f.vol, '..data'));
        symlinkSync('..data/key', join(f.vol, 'key'));
      },
      expect: (f) => join(f.vol, '..2026_01_01', 'key'),
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const f = fixture();
      try {
        c.setup(f);
        assert.equal(accepted(await prepareSubPath(f.req(c.subPath), noMounts)), c.expect(f));
      } finally {
        await f.close();
      }
    });
  }

  it('a missing nested directory is created, each level with the volume mode', async () => {
    const f = fixture();
    try {
      const got = accepted(await prepareSubPath(f.req('a/b/c'), noMounts));
      assert.equal(got, join(f.vol, 'a', 'b', 'c'));
      for (const p of ['a', 'a/b', 'a/b/c']) assert.equal(statSync(join(f.vol, p)).mode & 0o7777, 0o777, p);
    } finally {
      await f.close();
    }
  });
});

describe('prepareSubPath: escapes are refused', () => {
  const cases: { name: string; setup: (f: Fixture) => void; subPath: string | ((f: Fixture) => string); message: string; detail?: RegExp; create?: boolean; notCreated?: (f: Fixture) => string }[] = [
    { name: 'an absolute link to /etc', subPath: 'escape', setup: (f) => symlinkSync('/etc', join(f.vol, 'escape')), message: PREPARE_FAILED, detail: /^subpath "\/etc" not within volume path / },
    {
      name: 'a relative link climbing out to /etc',
      subPath: 'escape',
      setup: (f) => symlinkSync('../../../../../../../../../../../../etc', join(f.vol, 'escape')),
      message: PREPARE_FAILED,
      detail: /not within volume path/,
    },
    { name: "a link to the host's /etc/passwd", subPath: 'pw', setup: (f) => symlinkSync('/etc/passwd', join(f.vol, 'pw')), message: PREPARE_FAILED, detail: /not within volume path/ },
    { name: "a link to the volume's parent", subPath: 'up', setup: (f) => symlinkSync('..', join(f.vol, 'up')), message: PREPARE_FAILED, detail: /not within volume path/ },
    {
      name: 'a link in the middle of the path',
      subPath: 'd/secret',
      setup: (f) => symlinkSync(f.outside, join(f.vol, 'd')),
      message: PREPARE_FAILED,
      detail: /not within volume path/,
    },
    {
      name: 'a link inside the volume that leads to one out of it',
      subPath: 'inner/hop',
      setup: (f) => {
        mkdirSync(join(f.vol, 'inner'));
        symlinkSync('../hop2', join(f.vol, 'inner', 'hop'));
        symlinkSync(f.outside, join(f.vol, 'hop2'));
      },
      message: PREPARE_FAILED,
      detail: /not within volume path/,
    },
    {
      name: 'no directory is created on the host through a link',
      subPath: 'd/new/deeper',
      setup: (f) => symlinkSync(f.outside, join(f.vol, 'd')),
      message: CREATE_FAILED,
      detail: /is outside of allowed base/,
      notCreated: (f) => join(f.outside, 'new'),
    },
    {
      name: 'nor through a dangling link',
      subPath: 'dangling',
      setup: (f) => symlinkSync(join(f.outside, 'missing'), join(f.vol, 'dangling')),
      message: CREATE_FAILED,
      detail: /cannot create directory/,
      notCreated: (f) => join(f.outside, 'missing'),
    },
    { name: "a subPath with '..'", subPath: '../../etc', setup: () => undefined, message: "unable to provision SubPath `../../etc`: must not contain '..'" },
    { name: "a subPath with '..' inside", subPath: 'a/../../x', setup: () => undefined, message: "unable to provision SubPath `a/../../x`: must not contain '..'" },
    { name: 'an absolute subPath', subPath: '/etc', setup: () => undefined, message: 'error SubPath `/etc` must not be an absolute path' },
    { name: 'a missing subPath of a read-only volume is not created', subPath: 'nope', create: false, setup: () => undefined, message: PREPARE_FAILED, detail: /error resolving symlinks/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const f = fixture();
      try {
        c.setup(f);
        const sub = typeof c.subPath === 'string' ? c.subPath : c.subPath(f);
        const r = refused(await prepareSubPath(f.req(sub, c.create === undefined ? {} : { create: c.create }), noMounts));
        assert.equal(r.message, c.message);
        if (c.detail) assert.match(r.detail, c.detail);
        if (c.notCreated) assert.equal(existsSync(c.notCreated(f)), false);
      } finally {
        await f.close();
      }
    });
  }
});

describe('a link swapped in between the check and the open', () => {
  const swaps: { name: string; swap: (f: Fixture) => void }[] = [
    {
      name: 'a parent directory becomes a link out',
      swap: (f) => {
        renameSync(join(f.vol, 'a'), join(f.vol, 'a.old'));
        mkdirSync(join(f.outside, 'b'));
        symlinkSync(f.outside, join(f.vol, 'a'));
      },
    },
    {
      name: 'the last component becomes a link out',
      swap: (f) => {
        renameSync(join(f.vol, 'a', 'b'), join(f.vol, 'a', 'b.old'));
        symlinkSync(f.outside, join(f.vol, 'a', 'b'));
      },
    },
  ];
  for (const s of swaps) {
    it(`${s.name}: refused`, async () => {
      const f = fixture();
      try {
        mkdirSync(join(f.vol, 'a', 'b'), { recursive: true });
        const r = refused(await prepareSubPath(f.req('a/b'), { mounts: false, afterResolve: async () => s.swap(f) }));
        assert.equal(r.message, PREPARE_FAILED);
        assert.match(r.detail, /unexpected symlink found .*\/a(\/b)?$/);
      } finally {
        await f.close();
      }
    });
  }

  it('safeOpen refuses a path that is not within the base', async () => {
    const f = fixture();
    try {
      await assert.rejects(safeOpen(f.outside, f.vol), /is outside of allowed base/);
    } finally {
      await f.close();
    }
  });
});

describe('the opened descriptor is what is bind-mounted', () => {
  it('a directory: bound under volume-subpaths, unaffected by a later swap, reused, removed by tearDown', { skip: notRoot }, async () => {
    const f = fixture();
    try {
      mkdirSync(join(f.vol, 'data'));
      writeFileSync(join(f.vol, 'data', 'f'), 'inside');
      const target = accepted(await prepareSubPath(f.req('data'), { mounts: true }));
      assert.equal(target, subPathBindTarget({ podDir: f.podDir, volumeName: 'vol', containerName: 'app', mountIndex: 0 }));
      assert.equal(target, join(f.podDir, 'volume-subpaths', 'vol', 'app', '0'));
      assert.ok(isMountPoint(target));
      assert.equal(readFileSync(join(target, 'f'), 'utf8'), 'inside');
      // A restart of the container finds the same bind and keeps it.
      assert.equal(accepted(await prepareSubPath(f.req('data'), { mounts: true })), target);
      assert.equal(mountsUnder(target).length, 1);
      // The container swaps the directory for a link out: the existing bind still holds the volume's
      // directory, and the next start is refused.
      renameSync(join(f.vol, 'data'), join(f.vol, 'data.old'));
      symlinkSync(f.outside, join(f.vol, 'data'));
      assert.equal(readFileSync(join(target, 'f'), 'utf8'), 'inside');
      assert.equal(existsSync(join(target, 'secret')), false);
      assert.equal(refused(await prepareSubPath(f.req('data'), { mounts: true })).message, PREPARE_FAILED);
      const vm = new VolumeManager({ root: f.dir, source: new MapConfigSource(), mounts: true });
      await vm.tearDown('uid-1');
      assert.deepEqual(mountsUnder(f.dir), []);
      assert.equal(existsSync(f.podDir), false);
      assert.equal(readFileSync(join(f.outside, 'secret'), 'utf8'), 'host secret');
    } finally {
      await f.close();
    }
  });

  it('a file (a configMap key): bound onto a file target', { skip: notRoot }, async () => {
    const f = fixture();
    try {
      mkdirSync(join(f.vol, '..2026_01_01'));
      writeFileSync(join(f.vol, '..2026_01_01', 'key'), 'value');
      symlinkSync('..2026_01_01', join(f.vol, '..data'));
      symlinkSync('..data/key', join(f.vol, 'key'));
      const target = accepted(await prepareSubPath(f.req('key', { mountIndex: 3 }), { mounts: true }));
      assert.equal(target, join(f.podDir, 'volume-subpaths', 'vol', 'app', '3'));
      assert.ok(statSync(target).isFile());
      assert.equal(readFileSync(target, 'utf8'), 'value');
    } finally {
      await f.close();
    }
  });
});
