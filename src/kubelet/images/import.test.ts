import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CriClient } from '../cri/client.ts';
import { buildPauseImageArchive, PAUSE_IMAGE } from './builtin.ts';
import { importImage, keepBuiltinImages, type BuiltinImagesResult } from './import.ts';
import { FakeClock } from '../../util/clock.ts';
import { normalizeImageName } from './reference.ts';

// importImage with a stand-in for ctr (a script that records how it was run) and for CRI's image
// lookups (nothing present until the stand-in has run): what is asked of ctr, and at which priority.
describe('importImage', () => {
  let dir: string;
  let archive: string;
  let id: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tk-import-'));
    const img = buildPauseImageArchive();
    id = img.id;
    archive = join(dir, 'pause.tar');
    writeFileSync(archive, img.archive);
    // It says the nice value it started at.
    writeFileSync(join(dir, 'ctr'), `#!/bin/sh\necho "$(cut -d' ' -f19 /proc/$$/stat) $*" > "${dir}/ran"\n`);
    chmodSync(join(dir, 'ctr'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function cri(): CriClient {
    const present = () => {
      try {
        readFileSync(join(dir, 'ran'));
        return true;
      } catch {
        return false;
      }
    };
    const stub = { imageStatus: async (name: string) => (present() && name === normalizeImageName(PAUSE_IMAGE) ? { id } : null) };
    return stub as unknown as CriClient;
  }

  it('runs ctr at the nice value asked for, into the k8s.io namespace, and waits until CRI sees the image', async () => {
    rmSync(join(dir, 'ran'), { force: true });
    const r = await importImage('/run/x.sock', archive, { ctr: join(dir, 'ctr'), cri: cri(), niceness: 10 });
    assert.equal(r.imported, true);
    assert.deepEqual(r.images, [{ id, names: [normalizeImageName(PAUSE_IMAGE)] }]);
    // nice(1) adds to the caller's own nice value (0 unless this test runs niced).
    assert.equal(readFileSync(join(dir, 'ran'), 'utf8'), `${Math.min(19, getPriority() + 10)} --address /run/x.sock --namespace k8s.io images import ${archive}\n`);
  });

  it('runs ctr at our own priority by default, and not at all when CRI has the image already', async () => {
    rmSync(join(dir, 'ran'), { force: true });
    await importImage('/run/x.sock', archive, { ctr: join(dir, 'ctr'), cri: cri() });
    assert.equal(readFileSync(join(dir, 'ran'), 'utf8').split(' ')[0], String(getPriority()));
    const again = await importImage('/run/x.sock', archive, { ctr: join(dir, 'false-ctr-never-run'), cri: cri() });
    assert.equal(again.imported, false);
  });

  it('with importAfter: checks at once, runs ctr only once it resolves true, not at all when false', async () => {
    // Present: answered without waiting for a promise that never settles.
    const present = await importImage('/run/x.sock', archive, { ctr: join(dir, 'false-ctr-never-run'), cri: cri(), importAfter: new Promise<boolean>(() => undefined) });
    assert.equal(present.imported, false);

    rmSync(join(dir, 'ran'), { force: true });
    let go: (v: boolean) => void = () => undefined;
    let settled = false;
    const pending = importImage('/run/x.sock', archive, { ctr: join(dir, 'ctr'), cri: cri(), importAfter: new Promise<boolean>((r) => (go = r)) }).finally(() => (settled = true));
    // The presence check has answered (it is missing) and the import waits: nothing ran yet.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false);
    assert.throws(() => readFileSync(join(dir, 'ran')), { code: 'ENOENT' });
    go(true);
    assert.equal((await pending).imported, true);
    assert.match(readFileSync(join(dir, 'ran'), 'utf8'), /images import /);

    rmSync(join(dir, 'ran'), { force: true });
    const skipped = await importImage('/run/x.sock', archive, { ctr: join(dir, 'false-ctr-never-run'), cri: cri(), importAfter: Promise.resolve(false) });
    assert.equal(skipped.imported, false);
    assert.throws(() => readFileSync(join(dir, 'ran')), { code: 'ENOENT' });
  });
});

// keepBuiltinImages with a stand-in for one try and a fake clock: the back-off between failed tries,
// the gate that opens after the first, and the stop.
describe('keepBuiltinImages', () => {
  const ok: BuiltinImagesResult = { pause: { imported: true, images: [], ms: 1 }, busybox: { imported: true, images: [], ms: 1 }, ms: 1 };
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
    assert.ok(cond());
  };

  it('tries again after 1 s, 2 s, 4 s… until one succeeds; the gate opens after the first try', async () => {
    const clock = new FakeClock();
    let tries = 0;
    const errors: number[] = [];
    const kept = keepBuiltinImages('/run/x.sock', '/nowhere', {
      clock,
      onError: (_err, ms) => errors.push(ms),
      ensure: async () => {
        if (++tries < 4) throw new Error(`try ${tries} failed`);
        return ok;
      },
    });
    await kept.attempted;
    assert.equal(tries, 1);
    assert.deepEqual(errors, [1000]);
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    assert.equal(tries, 1, 'not before its delay');
    clock.advance(1);
    await until(() => errors.length === 2);
    assert.deepEqual(errors, [1000, 2000]);
    clock.advance(2000);
    await until(() => errors.length === 3);
    clock.advance(4000);
    assert.equal(await kept.done, ok);
    assert.equal(tries, 4);
    assert.deepEqual(errors, [1000, 2000, 4000]);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('stops trying once aborted; done then resolves without a result', async () => {
    const clock = new FakeClock();
    const stop = new AbortController();
    let tries = 0;
    const kept = keepBuiltinImages('/run/x.sock', '/nowhere', {
      clock,
      signal: stop.signal,
      onError: () => undefined,
      ensure: async () => {
        tries++;
        throw new Error('containerd is busy');
      },
    });
    await kept.attempted;
    stop.abort();
    assert.equal(await kept.done, undefined);
    clock.advance(120_000);
    assert.equal(tries, 1);
  });
});
