// The real pull path: a private containerd (CRI, `config_path` hosts dir) pulling from Debian's
// docker-registry on 127.0.0.1, once open and once behind htpasswd, through registries.yaml →
// hosts.toml mirrors and CRI credentials from registries.yaml and imagePullSecrets. Needs root
// (containerd) and the docker-registry package (installed when missing; skipped if it cannot be).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Secret } from '../../src/api/types.ts';
import { startTestContainerd, type TestContainerd } from '../../src/kubelet/containerd/testing.ts';
import type { AuthConfig, ImageInfo, ImageService, PodSandboxConfig } from '../../src/kubelet/runtime/runtime.ts';
import { buildBusyboxImageArchive } from '../../src/kubelet/images/builtin.ts';
import { pushOciArchive } from '../../src/kubelet/images/distribution.ts';
import { buildOciArchive, type BuiltImage } from '../../src/kubelet/images/oci.ts';
import { ensureImage, type PullEvent, type PullProgress } from '../../src/kubelet/images/puller.ts';
import { IngestProgress } from '../../src/kubelet/images/progress.ts';
import { ensureDockerRegistry, startTestRegistry, type TestRegistry } from '../../src/kubelet/images/testing-registry.ts';
import { parseRegistries, resolvePullAuth, writeHostsDir, type RegistriesConfig } from '../../src/kubelet/images/registries/index.ts';

const USER = 'tinykube';
const PASSWORD = 's3cret-pw';

/** Counts PullImage calls (one per credential tried) on the way to the real runtime. */
class CountingImages implements ImageService {
  readonly inner: ImageService;
  pulls: (AuthConfig | undefined)[] = [];
  constructor(inner: ImageService) {
    this.inner = inner;
  }
  listImages(image?: string): Promise<ImageInfo[]> {
    return this.inner.listImages(image);
  }
  imageStatus(image: string): Promise<ImageInfo | undefined> {
    return this.inner.imageStatus(image);
  }
  pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    this.pulls.push(auth);
    return this.inner.pullImage(image, auth, sandboxConfig);
  }
  removeImage(image: string): Promise<void> {
    return this.inner.removeImage(image);
  }
  imageFsInfo() {
    return this.inner.imageFsInfo();
  }
}

/** The digest of the only layer of an image archive built by buildOciArchive. */
async function layerOf(img: BuiltImage): Promise<string> {
  const { readTar } = await import('../../src/kubelet/images/tar.ts');
  const files = new Map(readTar(img.archive).map((m) => [m.path, m.data]));
  const manifest = JSON.parse(files.get(`blobs/${img.manifestDigest.replace(':', '/')}`)!.toString('utf8')) as { layers: { digest: string }[] };
  return manifest.layers[0].digest;
}

function pullSecret(host: string, username: string, password: string): Secret {
  const json = JSON.stringify({ auths: { [host]: { username, password, auth: Buffer.from(`${username}:${password}`).toString('base64') } } });
  return { metadata: { name: 'regcred', namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(json).toString('base64') } };
}

/**
 * A proxy in front of a registry that holds back the second half of one blob until `release()`:
 * the pull is then mid-download for as long as the test needs, with no sleeps.
 */
async function holdingProxy(upstream: string, digest: string): Promise<{ port: number; release(): void; server: Server }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = createServer((req, res) => {
    const up = request(`http://${upstream}${req.url}`, { method: req.method, headers: { ...req.headers, host: upstream } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (req.method !== 'GET' || !req.url?.includes(`/blobs/${digest}`)) {
        ur.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      ur.on('data', (c: Buffer) => chunks.push(c));
      ur.on('end', () => {
        const body = Buffer.concat(chunks);
        res.write(body.subarray(0, body.length >> 1));
        void gate.then(() => res.end(body.subarray(body.length >> 1)));
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // A safety valve only: if progress never shows, the test fails on its assertions instead of hanging.
  const valve = setTimeout(release, 10_000);
  void gate.then(() => clearTimeout(valve));
  return { port: (server.address() as AddressInfo).port, release, server };
}

describe('image pulls from a local docker-registry', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  const hook = { after: (fn: () => Promise<void> | void) => cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let available = true;
  let tc: TestContainerd;
  let open: TestRegistry;
  let locked: TestRegistry;
  let busybox: BuiltImage;
  /** An image whose layer containerd has never seen, so pulling it fetches blobs, not just a manifest. */
  let fresh: BuiltImage;

  /** Writes the node's hosts.toml files from registries.yaml text, as the agent does at start. */
  async function configure(yaml: string): Promise<RegistriesConfig> {
    const cfg = parseRegistries(yaml);
    await writeHostsDir(cfg, tc.containerd.layout.registryConfigDir);
    return cfg;
  }

  before(async () => {
    if (!(await ensureDockerRegistry())) {
      available = false;
      return;
    }
    const t0 = performance.now();
    [tc, open, locked] = await Promise.all([startTestContainerd(hook), startTestRegistry(hook), startTestRegistry(hook, { auth: { username: USER, password: PASSWORD } })]);
    busybox = buildBusyboxImageArchive(['busybox']);
    const created = new Date().toISOString();
    const data = Buffer.from(`pulled through a mirror ${created} ${Math.random()}\n`);
    fresh = buildOciArchive({ names: ['fresh'], layers: [[{ path: 'hello.txt', type: 'file', mode: 0o644, mtime: 0, data }]], config: { cmd: ['/hello.txt'] }, created, createdBy: 'test' });
    const creds = { username: USER, password: PASSWORD };
    // One push of an image's blobs per registry at a time: docker-registry fails concurrent uploads of
    // the same blob now and then (DIGEST_INVALID, or a 500 on its HEAD). The other tags then only
    // find the blobs there and add a manifest.
    await Promise.all([
      pushOciArchive(fresh.archive, `${open.host}/tinykube-test/fresh:mirror`),
      pushOciArchive(busybox.archive, `${open.host}/tools/busybox:v1`),
      pushOciArchive(busybox.archive, `${locked.host}/private/busybox:v1`, creds),
    ]);
    await Promise.all(['v2', 'v3', 'v4'].map((tag) => pushOciArchive(busybox.archive, `${locked.host}/private/busybox:${tag}`, creds)));
    console.log(`# containerd + 2 registries + pushes: ${(performance.now() - t0).toFixed(0)} ms`);
  });

  const skipUnlessAvailable = (t: TestContext) => {
    if (!available) t.skip('docker-registry is not installable here');
    return !available;
  };

  it('pulls docker.io images through a plain-HTTP mirror from registries.yaml', async (t) => {
    if (skipUnlessAvailable(t)) return;
    const cfg = await configure(`mirrors:\n  docker.io:\n    endpoint: ["http://${open.host}"]\n  "reg.tinykube.test:5000":\n    endpoint: ["http://${open.host}"]\n`);
    const events: PullEvent[] = [];
    const image = 'tinykube-test/fresh:mirror';
    const r = await ensureImage(tc.runtime, image, undefined, resolvePullAuth(image, { registries: cfg }), undefined, { onEvent: (e) => events.push(e) });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.pulled, true);
    assert.equal(r.ref, fresh.id);
    assert.deepEqual(events.map((e) => e.reason), ['Pulling', 'Pulled']);
    assert.match(events[1].message, /^Successfully pulled image "tinykube-test\/fresh:mirror" in \S+ \(\S+ including waiting\)\. Image size: \d+ bytes\.$/);
    const info = await tc.runtime.imageStatus(`docker.io/${image}`);
    assert.ok(info?.repoTags.includes('docker.io/tinykube-test/fresh:mirror'));
    // IfNotPresent (a non-latest tag) does not pull again.
    const again = await ensureImage(tc.runtime, image, undefined, []);
    assert.ok(again.ok && !again.pulled);
    // A registry name with a port has its own hosts.toml directory ("host:port").
    const viaPort = await ensureImage(tc.runtime, 'reg.tinykube.test:5000/tools/busybox:v1', 'Always', []);
    assert.ok(viaPort.ok && viaPort.pulled, JSON.stringify(viaPort));
    console.log(`# mirror pull ${r.pullMs.toFixed(0)} ms, port-named mirror pull ${viaPort.pullMs.toFixed(0)} ms`);
  });

  it('reports a missing image as not found', async (t) => {
    if (skipUnlessAvailable(t)) return;
    await configure('');
    const r = await ensureImage(tc.runtime, `${open.host}/tools/nothing:v1`, 'IfNotPresent', []);
    assert.ok(!r.ok);
    assert.equal(r.reason, 'ErrImagePull');
    assert.equal(r.cause, 'not-found');
    assert.match(r.message, /^rpc error: code = NotFound desc = failed to pull and unpack image ".*tools\/nothing:v1".*not found/);
  });

  it('pulls with credentials from registries.yaml', async (t) => {
    if (skipUnlessAvailable(t)) return;
    const cfg = await configure(`configs:\n  "${locked.host}":\n    auth:\n      username: ${USER}\n      password: ${PASSWORD}\n`);
    const image = `${locked.host}/private/busybox:v1`;
    const auths = resolvePullAuth(image, { registries: cfg });
    assert.deepEqual(auths, [{ serverAddress: `http://${locked.host}`, username: USER, password: PASSWORD }]);
    const r = await ensureImage(tc.runtime, image, 'IfNotPresent', auths);
    assert.ok(r.ok && r.pulled, JSON.stringify(r));
    assert.equal(r.ref, busybox.id);
  });

  it('pulls with credentials from an imagePullSecret', async (t) => {
    if (skipUnlessAvailable(t)) return;
    const cfg = await configure('');
    const image = `${locked.host}/private/busybox:v2`;
    const auths = resolvePullAuth(image, { secrets: [pullSecret(locked.host, USER, PASSWORD)], registries: cfg });
    assert.deepEqual(auths, [{ username: USER, password: PASSWORD }]);
    const r = await ensureImage(tc.runtime, image, 'Always', auths);
    assert.ok(r.ok && r.pulled, JSON.stringify(r));
  });

  it('fails clearly with wrong or missing credentials', async (t) => {
    if (skipUnlessAvailable(t)) return;
    const cfg = await configure(`configs:\n  "${locked.host}":\n    auth: { username: ${USER}, password: wrong }\n`);
    const image = `${locked.host}/private/busybox:v3`;
    const events: PullEvent[] = [];
    const wrong = await ensureImage(tc.runtime, image, 'Always', resolvePullAuth(image, { registries: cfg }), undefined, { onEvent: (e) => events.push(e) });
    assert.ok(!wrong.ok);
    assert.equal(wrong.reason, 'ErrImagePull');
    assert.equal(wrong.cause, 'auth');
    assert.match(wrong.message, /401 Unauthorized|unauthorized/i);
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Normal', 'Pulling'], ['Warning', 'Failed']]);
    assert.equal(events[1].message, `Failed to pull image "${image}": ${wrong.message}`);
    const none = await ensureImage(tc.runtime, image, 'Always', []);
    assert.ok(!none.ok);
    assert.equal(none.cause, 'auth');
    assert.equal(await tc.runtime.imageStatus(image), undefined);
    console.log(`# wrong credentials: ${wrong.message}\n# no credentials: ${none.message}`);
  });

  it('tries the node credentials after a pull secret with a wrong password', async (t) => {
    if (skipUnlessAvailable(t)) return;
    const cfg = await configure(`configs:\n  "${locked.host}":\n    auth: { username: ${USER}, password: ${PASSWORD} }\n`);
    const image = `${locked.host}/private/busybox:v3`;
    const auths = resolvePullAuth(image, { secrets: [pullSecret(locked.host, USER, 'stale')], registries: cfg });
    assert.equal(auths.length, 2);
    const counting = new CountingImages(tc.runtime);
    const r = await ensureImage(counting, image, 'Always', auths);
    assert.ok(r.ok && r.pulled, JSON.stringify(r));
    assert.deepEqual(counting.pulls.map((a) => a?.password), ['stale', PASSWORD]);
  });

  it('sends mirror credentials to the mirror that needs them', async (t) => {
    if (skipUnlessAvailable(t)) return;
    const cfg = await configure(`mirrors:\n  docker.io:\n    endpoint: ["http://${locked.host}"]\nconfigs:\n  "${locked.host}":\n    auth: { username: ${USER}, password: ${PASSWORD} }\n`);
    const image = 'private/busybox:v4';
    const auths = resolvePullAuth(image, { registries: cfg });
    assert.deepEqual(auths, [{ serverAddress: `http://${locked.host}`, username: USER, password: PASSWORD }]);
    const r = await ensureImage(tc.runtime, image, 'IfNotPresent', auths);
    assert.ok(r.ok && r.pulled, JSON.stringify(r));
    assert.ok((await tc.runtime.imageStatus('docker.io/private/busybox:v4'))?.repoTags.includes('docker.io/private/busybox:v4'));
  });

  const isHeldLayer = (p: PullProgress): boolean => p.bytes !== undefined && p.bytes > 0 && (p.totalBytes ?? 0) >= 2 * 1024 * 1024 && p.bytes < p.totalBytes!;

  it('reports byte progress from containerd while a layer downloads', async (t) => {
    if (skipUnlessAvailable(t)) return;
    const created = new Date().toISOString();
    const big = buildOciArchive({ names: ['big'], layers: [[{ path: 'blob.bin', type: 'file', mode: 0o644, mtime: 0, data: randomBytes(2 * 1024 * 1024) }]], config: { cmd: ['/blob.bin'] }, created, createdBy: 'test' });
    await pushOciArchive(big.archive, `${open.host}/tools/big:v1`);
    const layerDigest = await layerOf(big);
    const proxy = await holdingProxy(open.host, layerDigest);
    t.after(() => new Promise<void>((r) => proxy.server.close(() => r())));
    t.after(() => proxy.release());
    t.after(() => proxy.server.closeAllConnections());
    await configure(`mirrors:\n  slow.tinykube.test:\n    endpoint: ["http://127.0.0.1:${proxy.port}"]\n`);
    const ingests = new IngestProgress(tc.containerd.socket);
    t.after(() => ingests.close());
    const seen: PullProgress[] = [];
    const r = await ensureImage(tc.runtime, 'slow.tinykube.test/tools/big:v1', 'IfNotPresent', [], undefined, {
      progressIntervalMs: 20,
      progressSource: ingests.tracker(),
      onProgress: (p) => {
        seen.push(p);
        // Only the held 2 MiB layer counts: the manifest and config blobs (a few hundred bytes) may be
        // reported complete first, and releasing on them would let the layer finish before a sample.
        if (isHeldLayer(p)) proxy.release();
      },
    });
    assert.ok(r.ok && r.pulled, JSON.stringify(r));
    const mid = seen.find(isHeldLayer);
    assert.ok(mid, `no byte progress in ${JSON.stringify(seen)}`);
    assert.ok(mid.bytes! < mid.totalBytes!, JSON.stringify(mid));
    assert.ok(mid.totalBytes! >= 2 * 1024 * 1024, JSON.stringify(mid));
    console.log(`# progress while held: ${mid.bytes}/${mid.totalBytes} bytes after ${mid.elapsedMs.toFixed(0)} ms`);
  });

  it('never pulls with imagePullPolicy Never', async (t) => {
    if (skipUnlessAvailable(t)) return;
    const counting = new CountingImages(tc.runtime);
    const events: PullEvent[] = [];
    const missing = await ensureImage(counting, `${open.host}/tools/busybox:never`, 'Never', [], undefined, { onEvent: (e) => events.push(e) });
    assert.ok(!missing.ok);
    assert.equal(missing.reason, 'ErrImageNeverPull');
    assert.equal(missing.message, `Container image "${open.host}/tools/busybox:never" is not present with pull policy of Never`);
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'ErrImageNeverPull']]);
    // The built-in busybox is on the node: Never runs it.
    const present = await ensureImage(counting, 'busybox', 'Never', []);
    assert.ok(present.ok && !present.pulled);
    assert.equal(counting.pulls.length, 0);
  });
});
