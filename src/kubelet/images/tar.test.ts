import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTar, writeTar, type TarEntry } from './tar.ts';

const entries: TarEntry[] = [
  { path: 'bin', type: 'dir', mode: 0o755, mtime: 1700000000 },
  { path: 'bin/busybox', type: 'file', mode: 0o755, mtime: 1700000000, data: Buffer.from('#!binary\n') },
  { path: 'bin/sh', type: 'symlink', mode: 0o777, mtime: 1700000000, linkname: 'busybox' },
  { path: 'bin/ls', type: 'hardlink', mode: 0o755, mtime: 1700000000, linkname: 'bin/busybox' },
  { path: 'tmp', type: 'dir', mode: 0o1777, mtime: 1700000000 },
  { path: `deep/${'d'.repeat(80)}/${'f'.repeat(60)}.txt`, type: 'file', mode: 0o644, mtime: 1700000000, data: Buffer.alloc(1000, 'x') },
  { path: 'empty', type: 'file', mode: 0o600, mtime: 1700000000, data: Buffer.alloc(0) },
];

describe('tar', () => {
  it('round-trips files, dirs, symlinks, hard links and long (prefix) paths', () => {
    const tar = writeTar(entries);
    assert.equal(tar.length % 512, 0);
    const back = readTar(tar);
    assert.deepEqual(back.map((m) => [m.path, m.typeflag, m.data.length]), [
      ['bin/', '5', 0],
      ['bin/busybox', '0', 9],
      ['bin/sh', '2', 0],
      ['bin/ls', '1', 0],
      ['tmp/', '5', 0],
      [entries[5].path, '0', 1000],
      ['empty', '0', 0],
    ]);
    assert.equal(back[1].data.toString(), '#!binary\n');
  });

  it('is read by GNU tar with modes, link targets and sizes intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-tar-'));
    try {
      const file = join(dir, 'x.tar');
      writeFileSync(file, writeTar(entries));
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
      assert.match(listing, /^drwxrwxrwt root\/root\s+0 .* tmp\/$/m);
      assert.match(listing, /^lrwxrwxrwx root\/root\s+0 .* bin\/sh -> busybox$/m);
      assert.match(listing, /^-rwxr-xr-x root\/root\s+9 .* bin\/busybox$/m);
      assert.match(listing, /^hrwxr-xr-x root\/root\s+0 .* bin\/ls link to bin\/busybox$/m);
      assert.ok(listing.includes(entries[5].path));
      // Extracted, the hard link is the same file as its target.
      const out = join(dir, 'out');
      execFileSync('mkdir', [out]);
      execFileSync('tar', ['-xf', file, '-C', out]);
      assert.equal(statSync(join(out, 'bin/ls')).ino, statSync(join(out, 'bin/busybox')).ino);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic', () => {
    assert.deepEqual(writeTar(entries), writeTar(entries));
  });
});
