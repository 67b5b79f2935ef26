// Builds an OCI image layout archive (a tar holding oci-layout, index.json and blobs/sha256/*) from
// layer entries, offline. containerd's importer (`ctr images import`) names each image from the
// `io.containerd.image.name` annotation of its index entry, so one entry is written per name.
import { createHash } from 'node:crypto';
import { readTar, writeTar, type TarEntry } from './tar.ts';
import { normalizeImageName, parseImageReference } from './reference.ts';

export const MEDIA_TYPE_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_TYPE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_TYPE_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

export interface ImageConfigSpec {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
}

export interface OciImageSpec {
  /** Reference names; normalised (`busybox` → `docker.io/library/busybox:latest`). */
  names: readonly string[];
  /** One entry list per layer, bottom first. */
  layers: ReadonlyArray<readonly TarEntry[]>;
  config: ImageConfigSpec;
  /** RFC 3339; fixed by callers so the image ID is reproducible. */
  created: string;
  /** `created_by` of the history entry, for `crictl inspecti` readers. */
  createdBy: string;
}

export interface BuiltImage {
  archive: Buffer;
  /** The config digest: what CRI reports as the image ID. */
  id: string;
  manifestDigest: string;
  names: string[];
}

export function sha256(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

/** The GOARCH name of the machine we run on, as image configs and platforms spell it. */
export function goArch(arch: string = process.arch): string {
  const m: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return m[arch] ?? arch;
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}

/**
 * Builds the archive. Its layers are plain tars (OCI's uncompressed layer type): the archive goes from
 * one file to a containerd on the same machine, so compressing it only costs CPU at both ends
 * (measured: gzip ~60 ms for busybox here, and each node's containerd gunzipping it again on import).
 */
export function buildOciArchive(spec: OciImageSpec): BuiltImage {
  return assembleArchive(spec, spec.layers.map((entries) => writeTar(entries)));
}

function assembleArchive(spec: OciImageSpec, layers: readonly Buffer[]): BuiltImage {
  const mtime = Math.floor(Date.parse(spec.created) / 1000);
  const blobs = new Map<string, Buffer>();
  const layerDescs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  for (const tar of layers) {
    // An uncompressed layer's digest is its diff ID.
    const d = sha256(tar);
    diffIds.push(d);
    blobs.set(d, tar);
    layerDescs.push({ mediaType: MEDIA_TYPE_LAYER, digest: d, size: tar.length });
  }
  const c = spec.config;
  const imageConfig: Record<string, unknown> = {};
  if (c.user !== undefined) imageConfig.User = c.user;
  if (c.env) imageConfig.Env = c.env;
  if (c.entrypoint) imageConfig.Entrypoint = c.entrypoint;
  if (c.cmd) imageConfig.Cmd = c.cmd;
  if (c.workingDir !== undefined) imageConfig.WorkingDir = c.workingDir;
  if (c.labels) imageConfig.Labels = c.labels;
  const config = json({
    created: spec.created,
    architecture: goArch(),
    os: 'linux',
    config: imageConfig,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created: spec.created, created_by: spec.createdBy }],
  });
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: { mediaType: MEDIA_TYPE_CONFIG, digest: configDigest, size: config.length },
    layers: layerDescs,
  });
  const manifestDigest = sha256(manifest);
  blobs.set(manifestDigest, manifest);
  const names = spec.names.map(normalizeImageName);
  const manifests = names.map((name) => ({
    mediaType: MEDIA_TYPE_MANIFEST,
    digest: manifestDigest,
    size: manifest.length,
    platform: { architecture: goArch(), os: 'linux' },
    annotations: { [ANNOTATION_CONTAINERD_NAME]: name, [ANNOTATION_REF_NAME]: parseImageReference(name).tag ?? 'latest' },
  }));
  const archive = writeLayout(manifests, [...blobs].map(([d, b]) => [`blobs/sha256/${d.slice('sha256:'.length)}`, b] as const), mtime);
  return { archive, id: configDigest, manifestDigest, names };
}

/** An OCI image layout as a tar: oci-layout, index.json listing `manifests`, and the blobs (path → bytes). */
function writeLayout(manifests: readonly unknown[], blobs: Iterable<readonly [string, Buffer]>, mtime: number): Buffer {
  const entries: TarEntry[] = [
    { path: 'oci-layout', type: 'file', mode: 0o644, mtime, data: json({ imageLayoutVersion: '1.0.0' }) },
    { path: 'index.json', type: 'file', mode: 0o644, mtime, data: json({ schemaVersion: 2, mediaType: MEDIA_TYPE_INDEX, manifests }) },
    { path: 'blobs', type: 'dir', mode: 0o755, mtime },
    { path: 'blobs/sha256', type: 'dir', mode: 0o755, mtime },
  ];
  for (const [path, data] of blobs) entries.push({ path, type: 'file', mode: 0o644, mtime, data });
  return writeTar(entries);
}

/**
 * One OCI layout archive holding every image of `archives` (OCI layouts as built above): their blobs,
 * each once, and their index entries in order. containerd then imports them all in one `ctr images
 * import` (a Go process and an import each cost ~85 ms of CPU on a node's start).
 */
export function mergeOciArchives(archives: readonly Buffer[], mtime: number): Buffer {
  const blobs = new Map<string, Buffer>();
  const manifests: unknown[] = [];
  for (const archive of archives) {
    let index: unknown;
    for (const m of readTar(archive)) {
      if (m.typeflag !== '0' && m.typeflag !== '\0') continue;
      if (m.path === 'index.json') index = JSON.parse(m.data.toString('utf8'));
      else if (m.path.startsWith('blobs/')) blobs.set(m.path, m.data);
    }
    const list = (index as { manifests?: unknown } | undefined)?.manifests;
    if (!Array.isArray(list)) throw new Error('not an OCI layout archive: no index.json with manifests');
    manifests.push(...(list as unknown[]));
  }
  return writeLayout(manifests, blobs, mtime);
}
