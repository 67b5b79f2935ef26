// Loads image archives (OCI layout or `docker save` tars) into a containerd's k8s.io namespace, where
// CRI sees them, without any registry.
//
// Called at node start-up (ensureBuiltinImages) and by `tinykube image import FILE`. Concurrent
// imports into one containerd are queued here: run in parallel they contend inside containerd and
// take ~3x longer than one after the other (measured: 580 ms vs 180 ms for pause + busybox).
// Importing is idempotent: an archive whose every name already resolves to its image ID is skipped after a few
// CRI lookups (~5 ms), which keeps node start-up fast.
//
// The import itself runs `ctr images import` (shipped with Debian's containerd): it speaks
// containerd's content, images and snapshot APIs and unpacks the layers, which would otherwise be a
// few hundred lines of gRPC here for no gain.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
// gRPC loads only to import: `up --nodes` builds the archives for its agents without it.
import type { CriClient } from '../cri/client.ts';
import { buildBuiltinImagesArchive, builtinFingerprint, defaultBusyboxNames, PAUSE_IMAGE } from './builtin.ts';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME } from './oci.ts';
import { normalizeImageName } from './reference.ts';
import { readTar } from './tar.ts';
import type { ErrorCode } from '../../util/errors.ts';
import { realClock, type Clock } from '../../util/clock.ts';

export const K8S_NAMESPACE = 'k8s.io';

export class ImageImportError extends Error {
  readonly code: ErrorCode;
  constructor(code: 'ERR_IMAGE_IMPORT_FAILED' | 'ERR_IMAGE_ARCHIVE_INVALID', message: string) {
    super(message);
    this.name = 'ImageImportError';
    this.code = code;
  }
}

export interface ArchiveImage {
  /** Fully qualified names the archive assigns ("docker.io/library/busybox:latest"). */
  names: string[];
  /** The config digest, which CRI reports as the image ID. */
  id: string;
}

function parseJson(buf: Buffer | undefined, what: string): unknown {
  if (!buf) throw new ImageImportError('ERR_IMAGE_ARCHIVE_INVALID', `archive has no ${what}`);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new ImageImportError('ERR_IMAGE_ARCHIVE_INVALID', `archive's ${what} is not JSON`);
  }
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Reads which images an archive holds and under which names, as containerd's importer would name
 * them: OCI index entries by their io.containerd.image.name annotation (or a fully qualified
 * org.opencontainers.image.ref.name); docker archives by RepoTags.
 */
export function inspectArchive(archive: Buffer): ArchiveImage[] {
  const files = new Map<string, Buffer>();
  for (const m of readTar(archive)) if (m.typeflag === '0' || m.typeflag === '\0') files.set(m.path, m.data);
  const byId = new Map<string, Set<string>>();
  const add = (id: string, name: string | undefined) => {
    const set = byId.get(id) ?? new Set<string>();
    byId.set(id, set);
    if (name) set.add(normalizeImageName(name));
  };
  const dockerManifest = files.get('manifest.json');
  if (dockerManifest) {
    // containerd prefers manifest.json when both are present; so do we.
    const list = parseJson(dockerManifest, 'manifest.json');
    if (!Array.isArray(list)) throw new ImageImportError('ERR_IMAGE_ARCHIVE_INVALID', 'manifest.json is not a list');
    for (const e of list) {
      const config = str(obj(e).Config);
      if (!config) continue;
      const id = 'sha256:' + (config.split('/').pop() ?? '').replace(/\.json$/, '');
      const tags = obj(e).RepoTags;
      add(id, undefined);
      if (Array.isArray(tags)) for (const t of tags) if (typeof t === 'string') add(id, t);
    }
  } else {
    const index = obj(parseJson(files.get('index.json'), 'index.json (not an OCI or docker archive)'));
    const manifests = Array.isArray(index.manifests) ? index.manifests : [];
    for (const d of manifests) {
      const digest = str(obj(d).digest);
      if (!digest) continue;
      const manifest = obj(parseJson(files.get(`blobs/${digest.replace(':', '/')}`), `manifest blob ${digest}`));
      const id = str(obj(manifest.config).digest);
      if (!id) continue; // a nested index (multi-platform): no single image ID to compare
      const ann = obj(obj(d).annotations);
      const ref = str(ann[ANNOTATION_REF_NAME]);
      add(id, str(ann[ANNOTATION_CONTAINERD_NAME]) ?? (ref && ref.includes('/') ? ref : undefined));
    }
  }
  return [...byId].map(([id, names]) => ({ id, names: [...names] }));
}

export interface ImportResult {
  /** False when every name was already present with the archive's image ID. */
  imported: boolean;
  images: ArchiveImage[];
  ms: number;
}

export interface ImportOptions {
  /** The ctr binary (default "ctr" on PATH). */
  ctr?: string;
  /** Import even if the images look present. */
  force?: boolean;
  /** How long CRI may take to see imported images (default 10 s). */
  visibleTimeoutMs?: number;
  /** A CRI client to reuse for the presence checks (else one is opened and closed). */
  cri?: CriClient;
  /**
   * The nice value of the ctr process (default 0: ours). A node's start-up import of the built-in images
   * is background work: at 10, on a busy machine, the node's own way to Ready (and its neighbours') comes
   * first (ctr takes ~130 ms of CPU for the two images, measured).
   */
  niceness?: number;
  /**
   * When images are missing, the import itself (ctr) waits for this; resolving false skips it (the
   * result then says imported: false). The check whether they are present does not wait: a node whose
   * containerd already has them is ready for pods at once.
   */
  importAfter?: Promise<boolean>;
}

/** Whether every name of every image resolves to that image's ID in CRI already. */
async function allPresent(cri: CriClient, images: readonly ArchiveImage[]): Promise<boolean> {
  if (images.length === 0 || images.some((i) => i.names.length === 0)) return false;
  const checks = images.flatMap((i) => i.names.map(async (n) => (await cri.imageStatus(n))?.id === i.id));
  return (await Promise.all(checks)).every(Boolean);
}

function run(cmd: string, args: string[], niceness = 0): Promise<{ stdout: string; stderr: string }> {
  // Through nice(1): the process starts at that priority with every thread it makes (setpriority on
  // its pid afterwards would reach only its first thread, and ctr is a Go program).
  const [file, argv] = niceness ? ['nice', ['-n', String(niceness), cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new ImageImportError('ERR_IMAGE_IMPORT_FAILED', `${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

const queues = new Map<string, Promise<unknown>>();

/** Runs fn after every earlier import into the same containerd has finished. */
function serialised<T>(socket: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(socket) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  queues.set(socket, tail);
  void tail.then(() => {
    if (queues.get(socket) === tail) queues.delete(socket);
  });
  return next;
}

/** Imports an archive into containerd's k8s.io namespace, unless it is already there. */
export function importImage(socket: string, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  return serialised(socket, () => importNow(socket, file, opts));
}

async function importNow(socket: string, file: string, opts: ImportOptions): Promise<ImportResult> {
  const t0 = performance.now();
  const images = inspectArchive(await readFile(file));
  const cri = opts.cri ?? (await criClient(socket));
  try {
    if (!opts.force && (await allPresent(cri, images))) return { imported: false, images, ms: performance.now() - t0 };
    if (opts.importAfter && !(await opts.importAfter)) return { imported: false, images, ms: performance.now() - t0 };
    await run(opts.ctr ?? 'ctr', ['--address', socket, '--namespace', K8S_NAMESPACE, 'images', 'import', file], opts.niceness);
    // CRI learns of new images from containerd's event stream, a moment after ctr returns.
    const deadline = performance.now() + (opts.visibleTimeoutMs ?? 10_000);
    while (images.every((i) => i.names.length > 0) && !(await allPresent(cri, images))) {
      if (performance.now() > deadline) throw new ImageImportError('ERR_IMAGE_IMPORT_FAILED', `imported ${file}, but CRI does not list ${images.flatMap((i) => i.names).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return { imported: true, images, ms: performance.now() - t0 };
  } finally {
    if (!opts.cri) cri.close();
  }
}

/**
 * The archive of the pause and busybox images in cacheDir, built unless this binary's version of it is
 * there (`up --nodes` builds it once for all its nodes and links it into each node's cache).
 */
export async function buildBuiltinImages(cacheDir: string): Promise<{ file: string }> {
  const file = join(cacheDir, `builtin-${builtinFingerprint('pause')}-${builtinFingerprint('busybox')}.tar`);
  if (!existsSync(file)) await buildBuiltinImagesArchive(file, defaultBusyboxNames());
  return { file };
}

export interface BuiltinImagesResult {
  pause: ImportResult;
  busybox: ImportResult;
  ms: number;
}

/**
 * Builds (once per binary version, cached in cacheDir) and imports the pause and busybox images, in
 * one import. The node agent calls this before creating any sandbox: containerd's sandbox_image must exist.
 */
export async function ensureBuiltinImages(socket: string, cacheDir: string, opts: Omit<ImportOptions, 'force'> = {}): Promise<BuiltinImagesResult> {
  const t0 = performance.now();
  const { file } = await buildBuiltinImages(cacheDir);
  const cri = opts.cri ?? (await criClient(socket));
  try {
    const both = await importImage(socket, file, { ...opts, cri });
    const pauseName = normalizeImageName(PAUSE_IMAGE);
    const part = (pause: boolean): ImportResult => ({ ...both, images: both.images.filter((i) => i.names.includes(pauseName) === pause) });
    return { pause: part(true), busybox: part(false), ms: performance.now() - t0 };
  } finally {
    if (!opts.cri) cri.close();
  }
}

export interface KeepBuiltinImagesOptions extends Omit<ImportOptions, 'force' | 'cri'> {
  clock?: Clock;
  /** Stops the retries (the node stops); an import under way still finishes. */
  signal?: AbortSignal;
  /** Each failure, and when the next try is. */
  onError(err: unknown, retryInMs: number): void;
  /** What one try runs (ensureBuiltinImages; a stand-in in tests). */
  ensure?: (socket: string, cacheDir: string, opts: Omit<ImportOptions, 'force'>) => Promise<BuiltinImagesResult>;
}

export interface KeptBuiltinImages {
  /** Settles after the first try, whatever its outcome: what the runtime's gate for sandboxes waits for. */
  attempted: Promise<void>;
  /** The first try that succeeded; undefined once stopped before one did. Never rejects. */
  done: Promise<BuiltinImagesResult | undefined>;
}

/**
 * ensureBuiltinImages until it succeeds. A node without the pause image runs no pod (containerd would
 * try to pull it), and a failed import (ctr killed, containerd busy past CRI's 10 s to see the images)
 * is not the end of it: each failure is reported and tried again after 1 s, doubling to 1 min, as a
 * kubelet backs off an image pull. Sandboxes wait only for the first try: after a failure they fail
 * with the runtime's own error (in the pod's events) and are retried by their pod's worker.
 */
export function keepBuiltinImages(socket: string, cacheDir: string, opts: KeepBuiltinImagesOptions): KeptBuiltinImages {
  const { clock = realClock, signal, onError, ensure = ensureBuiltinImages, ...importOpts } = opts;
  let attempted: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (attempted = resolve));
  const done = (async () => {
    for (let delay = 1000; !signal?.aborted; delay = Math.min(delay * 2, 60_000)) {
      try {
        return await ensure(socket, cacheDir, importOpts);
      } catch (err) {
        onError(err, delay);
      } finally {
        attempted();
      }
      try {
        await clock.sleep(delay, signal);
      } catch {
        break;
      }
    }
    attempted();
    return undefined;
  })();
  return { attempted: first, done };
}

async function criClient(socket: string): Promise<CriClient> {
  const { CriClient } = await import('../cri/client.ts');
  return new CriClient({ socket });
}
