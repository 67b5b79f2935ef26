import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { link, lstat, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskUsage, fsInfo } from './usage.ts';

async function blocksOf(path: string): Promise<number> {
  return (await lstat(path)).blocks * 512;
}

describe('diskUsage', () => {
  it('counts the blocks files use, hard links once, symlinks without following them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tk-du-'));
    const outside = await mkdtemp(join(tmpdir(), 'tk-du-out-'));
    try {
      await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
      await writeFile(join(root, 'a'), Buffer.alloc(64 * 1024, 1));
      await writeFile(join(root, 'sub', 'deeper', 'b'), Buffer.alloc(8 * 1024, 2));
      await link(join(root, 'a'), join(root, 'sub', 'a-again'));
      // A big file outside, reached only through a symlink: not this tree's usage.
      await writeFile(join(outside, 'big'), Buffer.alloc(1024 * 1024, 3));
      await symlink(outside, join(root, 'to-outside'));
      await symlink(join(outside, 'big'), join(root, 'to-big'));
      // A sparse file: its size is not its usage.
      const fh = await open(join(root, 'sparse'), 'w');
      await fh.truncate(100 * 1024 * 1024);
      await fh.close();

      const expected = (await Promise.all(
        ['.', 'sub', 'sub/deeper', 'a', 'sub/deeper/b', 'to-outside', 'to-big', 'sparse'].map((p) => blocksOf(join(root, p))),
      )).reduce((a, b) => a + b, 0);
      const u = await diskUsage(root);
      assert.equal(u.bytes, expected);
      // root, sub, deeper, a (= a-again), b, two symlinks, sparse
      assert.equal(u.inodes, 8);
      assert.ok(u.bytes >= 72 * 1024, `${u.bytes} covers the data written`);
      assert.ok(u.bytes < 1024 * 1024, `${u.bytes}: neither the symlinked file nor the sparse size counted`);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('measures a single file, and refuses a missing root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tk-du-'));
    try {
      await writeFile(join(root, 'f'), Buffer.alloc(4096, 1));
      assert.deepEqual(await diskUsage(join(root, 'f')), { bytes: await blocksOf(join(root, 'f')), inodes: 1 });
      await assert.rejects(diskUsage(join(root, 'missing')), { code: 'ENOENT' });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('fsInfo', () => {
  it('reports consistent statfs figures', async () => {
    const f = await fsInfo(tmpdir());
    assert.ok(f.capacityBytes > 0);
    assert.ok(f.availableBytes <= f.capacityBytes);
    assert.ok(f.usedBytes <= f.capacityBytes);
    assert.equal(f.inodesUsed, f.inodes - f.inodesFree);
  });
});
