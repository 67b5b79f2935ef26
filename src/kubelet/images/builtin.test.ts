import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildBusyboxImageArchive, buildPauseImageArchive, defaultBusyboxNames, isStaticElf, PAUSE_IMAGE } from './builtin.ts';
import { inspectArchive } from './import.ts';
import { readTar } from './tar.ts';
import { mergeOciArchives, type BuiltImage } from './oci.ts';

function blobs(img: BuiltImage): Map<string, Buffer> {
  return new Map(readTar(img.archive).filter((m) => m.path.startsWith('blobs/sha256/') && m.typeflag === '0').map((m) => ['sha256:' + m.path.slice(13), m.data]));
}

function configOf(img: BuiltImage): { config: Record<string, unknown>; rootfs: { diff_ids: string[] }; architecture: string; os: string } {
  return JSON.parse(blobs(img).get(img.id)!.toString());
}

function layerOf(img: BuiltImage) {
  const manifest = JSON.parse(blobs(img).get(img.manifestDigest)!.toString()) as { layers: { digest: string; mediaType: string }[] };
  // Uncompressed: the digest of the layer is its diff ID.
  assert.equal(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar');
  assert.equal(manifest.layers[0].digest, configOf(img).rootfs.diff_ids[0]);
  return readTar(blobs(img).get(manifest.layers[0].digest)!);
}

describe('built-in images', () => {
  it('builds the pause image from catatonit, reproducibly', () => {
    const a = buildPauseImageArchive();
    const b = buildPauseImageArchive();
    assert.equal(a.id, b.id);
    assert.deepEqual(a.names, [PAUSE_IMAGE]);
    const c = configOf(a);
    assert.deepEqual(c.config.Entrypoint, ['/catatonit', '-P']);
    assert.equal(c.os, 'linux');
    const layer = layerOf(a);
    const bin = layer.find((m) => m.path === 'catatonit');
    assert.ok(bin && isStaticElf(Buffer.from(bin.data)));
    assert.deepEqual(inspectArchive(a.archive), [{ id: a.id, names: [PAUSE_IMAGE] }]);
  });

  it('builds busybox with applet links, users and a sticky /tmp, under every name', () => {
    const names = defaultBusyboxNames();
    assert.equal(names[0], 'docker.io/library/busybox:latest');
    const img = buildBusyboxImageArchive(names);
    assert.deepEqual(inspectArchive(img.archive), [{ id: img.id, names }]);
    assert.deepEqual(configOf(img).config.Cmd, ['sh']);
    const layer = new Map(layerOf(img).map((m) => [m.path, m]));
    for (const applet of ['sh', 'httpd', 'nc', 'wget', 'sleep', 'cat', 'date', 'hostname', 'tar', 'test', 'echo', 'ls', 'env', 'id', 'ps', 'kill', 'dd', 'head', 'tail', 'mkdir', 'rm']) {
      const m = layer.get(`bin/${applet}`);
      assert.equal(m?.typeflag, '1', `bin/${applet} should be a hard link to busybox`);
      assert.equal(m?.linkname, 'bin/busybox');
    }
    assert.match(layer.get('etc/passwd')!.data.toString(), /^root:x:0:0:.*\nnobody:x:65534:65534:/);
    assert.match(layer.get('etc/group')!.data.toString(), /nobody:x:65534:/);
    assert.ok(layer.has('tmp/'));
  });

  it('puts both images in one archive for one import: every blob once, both images under their names', () => {
    const pause = buildPauseImageArchive();
    const busybox = buildBusyboxImageArchive(defaultBusyboxNames());
    const merged = mergeOciArchives([pause.archive, busybox.archive], 0);
    assert.deepEqual(
      inspectArchive(merged).map((i) => [i.id, [...i.names].sort()]),
      [...inspectArchive(pause.archive), ...inspectArchive(busybox.archive)].map((i) => [i.id, [...i.names].sort()]),
    );
    const paths = readTar(merged).map((m) => m.path);
    assert.equal(new Set(paths).size, paths.length, 'no member twice');
    for (const img of [pause, busybox]) {
      for (const [digest, data] of blobs(img)) assert.deepEqual(readTar(merged).find((m) => m.path === `blobs/sha256/${digest.slice(7)}`)?.data, data, digest);
    }
    assert.throws(() => mergeOciArchives([Buffer.alloc(1024)], 0), /not an OCI layout archive/);
  });

  it('tells static executables from dynamic ones', () => {
    assert.equal(isStaticElf(readFileSync('/bin/busybox')), true);
    assert.equal(isStaticElf(readFileSync('/bin/ls')), false);
    assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n')), false);
  });
});
