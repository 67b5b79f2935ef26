// `tinykube image` against a private containerd (root needed): build the busybox archive, import it
// and a `docker save`-style archive into the k8s.io namespace, see them through CRI and `image ls`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startTestContainerd, type TestContainerd } from '../../src/kubelet/containerd/testing.ts';
import { goArch, sha256 } from '../../src/kubelet/images/oci.ts';
import { writeTar } from '../../src/kubelet/images/tar.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

function tinykube(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A classic `docker save` archive: manifest.json, <config>.json, <dir>/layer.tar (gzipped here). */
function dockerArchive(tag: string): { archive: Buffer; id: string } {
  const mtime = 1_700_000_000;
  const layerTar = writeTar([{ path: 'greeting', type: 'file', mode: 0o644, mtime, data: Buffer.from(`hello from ${tag}\n`) }]);
  const layer = gzipSync(layerTar);
  const config = Buffer.from(
    JSON.stringify({ architecture: goArch(), os: 'linux', config: { Cmd: ['/greeting'] }, rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] } }),
  );
  const id = sha256(config);
  const hex = id.slice('sha256:'.length);
  const manifest = Buffer.from(JSON.stringify([{ Config: `${hex}.json`, RepoTags: [tag], Layers: ['l1/layer.tar'] }]));
  const archive = writeTar([
    { path: 'manifest.json', type: 'file', mode: 0o644, mtime, data: manifest },
    { path: `${hex}.json`, type: 'file', mode: 0o644, mtime, data: config },
    { path: 'l1', type: 'dir', mode: 0o755, mtime },
    { path: 'l1/layer.tar', type: 'file', mode: 0o644, mtime, data: layer },
  ]);
  return { archive, id };
}

describe('tinykube image', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let tc: TestContainerd;
  let dir: string;
  before(async () => {
    tc = await startTestContainerd({ after: (fn) => cleanups.push(fn) });
    dir = await mkdtemp(join(tmpdir(), 'tk-image-cli-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
  });

  it('imports OCI and docker archives into the node and lists them', async () => {
    const sock = tc.containerd.socket;
    const built = await tinykube(['image', 'build-busybox', 'tinykube.test/cli/busybox:v1', '-o', join(dir, 'bb.tar')]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /^built .*bb\.tar \([\d.]+MB, sha256:[0-9a-f]{12}\): tinykube\.test\/cli\/busybox:v1\n$/);

    const docker = dockerArchive('tinykube.test/cli/docker:v1');
    await writeFile(join(dir, 'docker.tar'), docker.archive);

    const first = await tinykube(['image', 'import', join(dir, 'bb.tar'), join(dir, 'docker.tar'), '--containerd-socket', sock]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trim().split('\n').map((l) => l.replace(/ \(sha256:[0-9a-f]+\)$/, '')), [
      'imported: tinykube.test/cli/busybox:v1',
      'imported: tinykube.test/cli/docker:v1',
    ]);
    assert.equal((await tc.runtime.imageStatus('tinykube.test/cli/docker:v1'))?.id, docker.id);
    assert.ok(await tc.runtime.imageStatus('tinykube.test/cli/busybox:v1'));

    const second = await tinykube(['image', 'import', join(dir, 'docker.tar'), '--containerd-socket', sock]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^already present: tinykube\.test\/cli\/docker:v1 \(sha256:/);

    const ls = await tinykube(['image', 'ls', '--data-dir', tc.dataDir]);
    assert.equal(ls.code, 0, ls.stderr);
    const rows = ls.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows[0], ['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']);
    const names = rows.slice(1).map((r) => `${r[0]}:${r[1]}`);
    for (const n of ['docker.io/library/busybox:latest', 'tinykube.local/pause:3.9', 'tinykube.test/cli/busybox:v1', 'tinykube.test/cli/docker:v1']) assert.ok(names.includes(n), `${n} in\n${ls.stdout}`);
    assert.equal(rows.find((r) => r[0] === 'tinykube.test/cli/docker')?.[2], docker.id.slice(7, 20));
  });

  it('says what is wrong with a missing file or containerd', async () => {
    const missing = await tinykube(['image', 'import', join(dir, 'none.tar'), '--containerd-socket', tc.containerd.socket]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /none\.tar: no such file/);
    await writeFile(join(dir, 'x.tar'), dockerArchive('tinykube.test/cli/x:v1').archive);
    const noSock = await tinykube(['image', 'import', join(dir, 'x.tar'), '--containerd-socket', join(dir, 'nothing.sock')]);
    assert.equal(noSock.code, 1);
    assert.match(noSock.stderr, /no containerd socket at .*nothing\.sock: is the node agent running\?/);
    const usage = await tinykube(['image', 'frobnicate']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown subcommand "frobnicate"[\s\S]*tinykube image import FILE/);
  });
});
