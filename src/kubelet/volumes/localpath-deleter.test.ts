import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unsafeToRemove } from './localpath-deleter.ts';

test('the local-path deleter removes only volume directories directly under its root, never through a symlink', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'tk-localpath-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'storage');
  const outside = join(base, 'precious');
  await mkdir(join(root, 'pvc-1_default_data'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'pvc-file'), 'x');
  await symlink(outside, join(root, 'pvc-link'));
  const cases: Array<{ path: string; ok: boolean; why?: RegExp }> = [
    { path: join(root, 'pvc-1_default_data'), ok: true },
    // Never made (no pod mounted it): nothing to refuse.
    { path: join(root, 'pvc-2_default_never'), ok: true },
    { path: join(root, 'pvc-link'), ok: false, why: /is not a directory/ },
    { path: join(root, 'pvc-file'), ok: false, why: /is not a directory/ },
    { path: outside, ok: false, why: /not a volume directory under/ },
    { path: join(root, 'other'), ok: false, why: /not a volume directory under/ },
    { path: join(root, 'pvc-1_default_data', '..', '..', 'precious'), ok: false, why: /not a volume directory under/ },
    { path: root, ok: false, why: /not a volume directory under/ },
    { path: '', ok: false, why: /not a volume directory under/ },
  ];
  for (const c of cases) {
    const why = await unsafeToRemove(c.path, root);
    if (c.ok) assert.equal(why, undefined, c.path);
    else assert.match(why ?? '', c.why!, c.path);
  }
});
