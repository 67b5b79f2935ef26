// Volumes of a pod on the host: emptyDir (a directory under the pod dir; medium Memory = tmpfs with
// sizeLimit), hostPath (with the `type` checks), configMap and secret (files written atomically
// through a `..data` symlink swap, as the kubelet's AtomicWriter does, so an update is seen whole by
// running containers), and nfs when the host can mount it. A volume that cannot be set up is a
// VolumeError whose message is the FailedMount event's.
//
// Callers: the pod worker of the pod, before creating containers and again on resyncs (setUp is
// idempotent and refreshes configMap/secret contents); tearDown when the pod is gone. Different pods'
// calls run concurrently; one pod's calls are serialised by its worker.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { ConfigMapVolumeSource, KeyToPath, Pod, SecretVolumeSource, Volume } from '../../api/types.ts';
import { tryParseQuantity, value as quantityValue } from '../../api/quantity.ts';
import type { ConfigSource } from './sources.ts';
import { mountsUnder } from './mountinfo.ts';
import { prepareSubPath, type SubPathOutcome, type SubPathPreparer, type SubPathRequest } from './subpath.ts';

export class VolumeError extends Error {
  readonly code = 'ERR_VOLUME_SETUP_FAILED';
  readonly volume: string;
  constructor(volume: string, message: string) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${message}`);
    this.name = 'VolumeError';
    this.volume = volume;
  }
}

export interface MountedVolume {
  hostPath: string;
  /** The volume itself is read-only (configMap, secret): every mount of it is. */
  readOnly: boolean;
}

function sh(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _out, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve()));
  });
}

/** mount(8) arguments as the kubelet's mounter builds them (mount-utils MakeMountArgs). */
export function mountArgs(fstype: string, options: readonly string[], source: string, target: string): string[] {
  return ['-t', fstype, ...(options.length > 0 ? ['-o', options.join(',')] : []), source, target];
}

/**
 * A failed mount(8) in the kubelet's words (mount-utils doMount), which the FailedMount event carries:
 * the exit status as Go prints it, the command, its arguments and its output.
 */
export function mountFailedMessage(exitCode: number | string | null | undefined, fallback: string, args: readonly string[], output: string): string {
  const status = typeof exitCode === 'number' ? `exit status ${exitCode}` : fallback;
  return `mount failed: ${status}\nMounting command: mount\nMounting arguments: ${args.join(' ')}\nOutput: ${output}`;
}

function mount(volume: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mount', args, (err, stdout, stderr) => (err ? reject(new VolumeError(volume, mountFailedMessage(err.code, err.message, args, stdout + stderr))) : resolve()));
  });
}

/** The NFS client mount(8) runs for `-t nfs` (Debian's nfs-common). */
const NFS_HELPERS = ['/sbin/mount.nfs', '/usr/sbin/mount.nfs'];

/** server:path as the kubelet's NFS plugin writes the mount source (brackets around an IPv6 server). */
export function nfsSource(server: string, path: string): string {
  return `${server.includes(':') ? `[${server}]` : server}:${path}`;
}

/** The files a configMap/secret volume holds: relative path → (content, mode). */
export function projectKeys(
  data: Record<string, Buffer>,
  items: readonly KeyToPath[] | undefined,
  defaultMode: number,
  volume: string,
  kind: string,
  optional: boolean,
): Map<string, { data: Buffer; mode: number }> {
  const out = new Map<string, { data: Buffer; mode: number }>();
  if (!items || items.length === 0) {
    for (const [k, v] of Object.entries(data)) out.set(k, { data: v, mode: defaultMode });
    return out;
  }
  for (const it of items) {
    const v = data[it.key];
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeError(volume, `${kind} references non-existent ${kind === 'secret' ? 'secret' : 'config'} key: ${it.key}`);
    }
    const p = normalize(it.path);
    if (p.startsWith('..') || p.startsWith('/')) throw new VolumeError(volume, `invalid path ${JSON.stringify(it.path)}`);
    out.set(p, { data: v, mode: it.mode ?? defaultMode });
  }
  return out;
}

/**
 * Writes `files` into `dir` atomically: a fresh `..<stamp>` directory, then the `..data` symlink is
 * swapped by rename, then top-level names are symlinks through `..data`. Unchanged content is not
 * rewritten (nothing for watchers inside the container to see).
 */
export async function atomicWrite(dir: string, files: Map<string, { data: Buffer; mode: number }>): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  const dataLink = join(dir, '..data');
  let current: string | undefined;
  try {
    current = await readlink(dataLink);
  } catch {
    current = undefined;
  }
  if (current && sameFiles(join(dir, current), files)) return false;
  const stamp = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${randomBytes(4).toString('hex')}`;
  const target = join(dir, stamp);
  await mkdir(target, { mode: 0o755 });
  for (const [p, f] of files) {
    const full = join(target, p);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.data);
    await chmod(full, f.mode);
  }
  await chmod(target, 0o755);
  const tmpLink = join(dir, `..data_tmp${randomBytes(4).toString('hex')}`);
  await symlink(stamp, tmpLink);
  await rename(tmpLink, dataLink);
  const top = new Set([...files.keys()].map((p) => p.split('/')[0]));
  for (const name of top) {
    const link = join(dir, name);
    let ok = false;
    try {
      ok = (await readlink(link)) === join('..data', name);
    } catch {
      ok = false;
    }
    if (!ok) {
      await rm(link, { recursive: true, force: true });
      await symlink(join('..data', name), link);
    }
  }
  for (const e of await readdir(dir)) {
    if (e === '..data' || e === stamp) continue;
    if (e.startsWith('..')) await rm(join(dir, e), { recursive: true, force: true });
    else if (!top.has(e)) await rm(join(dir, e), { recursive: true, force: true });
  }
  return true;
}

function sameFiles(dir: string, files: Map<string, { data: Buffer; mode: number }>): boolean {
  try {
    for (const [p, f] of files) {
      const b = readFileSync(join(dir, p));
      if (!b.equals(f.data)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function b64map(data: Record<string, string> | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

function textmap(data: Record<string, string> | undefined, binary: Record<string, string> | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(binary ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

export interface VolumeManagerOptions {
  /** `<root>/pods/<uid>/volumes/...` */
  root: string;
  source: ConfigSource;
  /** Whether real mounts (tmpfs, nfs) may be made; false in unit tests (a plain directory instead). */
  mounts?: boolean;
}

export class VolumeManager implements SubPathPreparer {
  readonly #root: string;
  readonly #source: ConfigSource;
  readonly #mounts: boolean;

  constructor(opts: VolumeManagerOptions) {
    this.#root = opts.root;
    this.#source = opts.source;
    this.#mounts = opts.mounts ?? true;
  }

  podDir(uid: string): string {
    return join(this.#root, 'pods', uid);
  }

  /** Sets up (or refreshes) every volume of the pod; throws VolumeError for the first that fails. */
  async setUp(pod: Pod): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata?.uid ?? '';
    const out = new Map<string, MountedVolume>();
    for (const v of pod.spec?.volumes ?? []) out.set(v.name, await this.#setUpOne(pod, uid, v));
    return out;
  }

  async #setUpOne(pod: Pod, uid: string, v: Volume): Promise<MountedVolume> {
    const ns = pod.metadata?.namespace ?? 'default';
    const base = join(this.podDir(uid), 'volumes');
    if (v.emptyDir) {
      const dir = join(base, 'kubernetes.io~empty-dir', v.name);
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777);
      if (v.emptyDir.medium === 'Memory' && this.#mounts && mountsUnder(dir)[0] !== dir) {
        const q = tryParseQuantity(v.emptyDir.sizeLimit);
        // Without a sizeLimit the kernel's default (half the RAM) applies, as for the kubelet's tmpfs.
        const opts = q ? `size=${Math.max(4096, quantityValue(q))}` : 'mode=0777';
        await mount(v.name, mountArgs('tmpfs', [q ? `${opts},mode=0777` : opts], 'tmpfs', dir));
      }
      return { hostPath: dir, readOnly: false };
    }
    if (v.hostPath) return { hostPath: await checkHostPath(v.name, v.hostPath.path, v.hostPath.type ?? ''), readOnly: false };
    if (v.configMap) return { hostPath: await this.#configMap(base, ns, v.name, v.configMap), readOnly: true };
    if (v.secret) return { hostPath: await this.#secret(base, ns, v.name, v.secret), readOnly: true };
    if (v.nfs) {
      const dir = join(base, 'kubernetes.io~nfs', v.name);
      await mkdir(dir, { recursive: true });
      if (mountsUnder(dir)[0] !== dir) {
        // The kubelet would run mount(8) anyway and pass on its "you might need a /sbin/mount.<type>
        // helper program"; saying which package is missing is more use to whoever reads the event.
        if (!NFS_HELPERS.some((h) => existsSync(h))) throw new VolumeError(v.name, 'this node has no NFS client: /sbin/mount.nfs not found (install nfs-common)');
        await mount(v.name, mountArgs('nfs', v.nfs.readOnly ? ['ro'] : [], nfsSource(v.nfs.server, v.nfs.path), dir));
      }
      return { hostPath: dir, readOnly: v.nfs.readOnly ?? false };
    }
    throw new VolumeError(v.name, `volume type of ${JSON.stringify(Object.keys(v).filter((k) => k !== 'name'))} is not supported by this node agent`);
  }

  async #configMap(base: string, ns: string, name: string, src: ConfigMapVolumeSource): Promise<string> {
    const dir = join(base, 'kubernetes.io~configmap', name);
    const cm = await this.#source.getConfigMap(ns, src.name ?? '');
    if (!cm && !src.optional) throw new VolumeError(name, `configmap "${src.name ?? ''}" not found`);
    const files = projectKeys(textmap(cm?.data, cm?.binaryData), src.items, src.defaultMode ?? 0o644, name, 'configmap', src.optional ?? false);
    await atomicWrite(dir, files);
    return dir;
  }

  async #secret(base: string, ns: string, name: string, src: SecretVolumeSource): Promise<string> {
    const dir = join(base, 'kubernetes.io~secret', name);
    const s = await this.#source.getSecret(ns, src.secretName ?? '');
    if (!s && !src.optional) throw new VolumeError(name, `secret "${src.secretName ?? ''}" not found`);
    const data = { ...b64map(s?.data) };
    for (const [k, v] of Object.entries(s?.stringData ?? {})) data[k] = Buffer.from(v, 'utf8');
    const files = projectKeys(data, src.items, src.defaultMode ?? 0o644, name, 'secret', src.optional ?? false);
    await atomicWrite(dir, files);
    return dir;
  }

  /** A volumeMount's subPath, resolved and bound without leaving the volume (see subpath.ts). */
  prepareSubPath(req: SubPathRequest): Promise<SubPathOutcome> {
    return prepareSubPath(req, { mounts: this.#mounts });
  }

  /** Unmounts (subPath binds under volume-subpaths/ included) and removes everything under the pod dir. Idempotent. */
  async tearDown(uid: string): Promise<void> {
    const dir = this.podDir(uid);
    for (const mp of mountsUnder(dir)) {
      await sh('umount', [mp]).catch(() => sh('umount', ['-l', mp]).catch(() => undefined));
    }
    // Never follow a mount that survived: rm would delete through it (a hostPath or NFS export).
    if (mountsUnder(dir).length > 0) throw new VolumeError('*', `mounts remain under ${dir}`);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The hostPath `type` checks (pkg/volume/hostpath). Returns the path to mount. */
export async function checkHostPath(volume: string, path: string, type: string): Promise<string> {
  const st = await lstatFollow(path);
  const fail = (what: string): never => {
    throw new VolumeError(volume, `hostPath type check failed: ${path} is not ${what}`);
  };
  switch (type) {
    case '':
      return path;
    case 'DirectoryOrCreate':
      if (!st) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        return path;
      }
      if (!st.isDirectory()) fail('a directory');
      return path;
    case 'Directory':
      if (!st || !st.isDirectory()) fail('a directory');
      return path;
    case 'FileOrCreate':
      if (!st) {
        try {
          await writeFile(path, '', { mode: 0o644, flag: 'wx' });
        } catch (err) {
          throw new VolumeError(volume, `hostPath type check failed: cannot create file ${path}: ${(err as Error).message}`);
        }
        return path;
      }
      if (!st.isFile()) fail('a file');
      return path;
    case 'File':
      if (!st || !st.isFile()) fail('a file');
      return path;
    case 'Socket':
      if (!st || !st.isSocket()) fail('a socket file');
      return path;
    case 'CharDevice':
      if (!st || !st.isCharacterDevice()) fail('a character device');
      return path;
    case 'BlockDevice':
      if (!st || !st.isBlockDevice()) fail('a block device');
      return path;
    default:
      throw new VolumeError(volume, `hostPath type ${JSON.stringify(type)} is not valid`);
  }
}

async function lstatFollow(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    try {
      return await lstat(path);
    } catch {
      return undefined;
    }
  }
}
