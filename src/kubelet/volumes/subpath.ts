// subPath and subPathExpr mounts without escaping the volume (the kubelet's fixes for CVE-2017-1002101
// and CVE-2021-25741, pkg/volume/util/subpath/subpath_linux.go and makeMounts in kubelet_pods.go).
// Whatever a container wrote into a volume (a symlink to /etc, a directory swapped for a link while
// the agent looks) must never make the runtime mount a host path outside the volume:
// - a missing subPath directory is created one component at a time beneath the opened volume root,
//   never through a link (doSafeMakeDir);
// - the subPath is resolved, must stay within the volume, and is then opened component by component
//   from the volume root with O_NOFOLLOW|O_PATH, refusing any link met on the way (doSafeOpen), so a
//   link swapped in after the check is refused too;
// - the opened file descriptor, not a path, is bind-mounted under
//   <pod dir>/volume-subpaths/<volume>/<container>/<mount index>, and that mount is what the runtime
//   gets: nothing a container changes afterwards moves it. VolumeManager.tearDown unmounts it with the
//   pod's other mounts.
//
// Node has no openat(2): opening `/proc/self/fd/<dir fd>/<name>` is the same call (the kernel jumps
// through the descriptor's magic link, then looks up one name in that directory).
//
// What the user sees is the kubelet's deliberately vague message ("failed to prepare subPath for
// volumeMount ..."), since the detail would describe the host's filesystem; the detail is kept in the
// outcome for the agent's own use and tests.
import { execFile } from 'node:child_process';
import { constants, type Stats } from 'node:fs';
import { mkdir, open, realpath, rm, rmdir, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { isMountPoint } from './mountinfo.ts';

/** Linux's O_PATH (the asm-generic value, as on x86_64 and arm64); Node does not export it. */
const O_PATH = 0o10000000;
/** Traversing a directory we create, never through a link (the kubelet's nofollowFlags). */
const NOFOLLOW_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
/** A descriptor for any object without following a final link (the kubelet's openFDFlags). */
const OPEN_FD_FLAGS = O_PATH | constants.O_NOFOLLOW;

/** The kubelet's directory for subPath bind mounts inside a pod's directory. */
export const SUBPATH_DIR = 'volume-subpaths';

export interface SubPathRequest {
  /** The volumeMount's name (the volume's name in the pod spec). */
  volumeName: string;
  /** The volume's directory on the host. */
  volumePath: string;
  /** subPath, or subPathExpr after expansion. */
  subPath: string;
  /** The pod's directory, under which the bind mount is made. */
  podDir: string;
  containerName: string;
  /** Index of the volumeMount in the container's list; names the bind target, as in the kubelet. */
  mountIndex: number;
  /** Whether a missing subPath may be created (false for volumes the agent keeps read-only). */
  create: boolean;
}

export type SubPathOutcome =
  | { ok: true; hostPath: string }
  /** message is the user's (the event, the waiting reason's message); detail is the agent's. */
  | { ok: false; message: string; detail: string };

/**
 * Prepares the host path the runtime mounts for a subPath. Called by the pod worker before each
 * container is created; one pod's calls are serialised by its worker (different containers and mount
 * indexes use different targets). Idempotent: an existing bind of the same file is reused.
 */
export interface SubPathPreparer {
  prepareSubPath(req: SubPathRequest): Promise<SubPathOutcome>;
}

export interface SubPathOptions {
  /** Bind-mount the opened descriptor (true on a node); false in unit tests without mounts, which get the checked path. */
  mounts: boolean;
  /** Runs between resolving the subPath and opening it; tests use it to swap in a link (the race the descriptor closes). */
  afterResolve?: () => Promise<void>;
}

/** A refusal with the kubelet's detail; caught at the boundary of prepareSubPath and made a value. */
class SubPathError extends Error {
  readonly code = 'ERR_SUBPATH_UNSAFE';
  constructor(message: string) {
    super(message);
    this.name = 'SubPathError';
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** mount-utils PathWithinBase: fullPath is base or below it. */
export function pathWithinBase(fullPath: string, base: string): boolean {
  const rel = relative(base, fullPath);
  return !isAbsolute(rel) && rel !== '..' && !rel.startsWith('../');
}

/** openat(dir, name, flags), for one name without '/'. */
function openAt(dir: FileHandle, name: string, flags: number): Promise<FileHandle> {
  return open(`/proc/self/fd/${dir.fd}/${name}`, flags);
}

function segmentsOf(pathname: string, base: string): string[] {
  const rel = relative(base, pathname);
  return rel === '' ? [] : rel.split('/');
}

/**
 * doSafeOpen: opens pathname (symlinks already resolved) from base one component at a time, refusing
 * any symlink and anything outside base. Returns an O_PATH descriptor; the caller closes it.
 */
export async function safeOpen(pathname: string, base: string): Promise<FileHandle> {
  if (!pathWithinBase(pathname, base)) throw new SubPathError(`path ${pathname} is outside of allowed base ${base}`);
  let parent: FileHandle | undefined;
  try {
    parent = await open(base, NOFOLLOW_FLAGS | constants.O_DIRECTORY);
  } catch (err) {
    throw new SubPathError(`cannot open directory ${base}: ${errText(err)}`);
  }
  try {
    let current = base;
    for (const seg of segmentsOf(pathname, base)) {
      current = join(current, seg);
      let child: FileHandle;
      try {
        child = await openAt(parent, seg, OPEN_FD_FLAGS);
      } catch (err) {
        throw new SubPathError(`cannot open ${current}: ${errText(err)}`);
      }
      let st: Stats;
      try {
        st = await child.stat();
      } catch (err) {
        await child.close();
        throw new SubPathError(`error running fstat on ${current} with ${errText(err)}`);
      }
      // O_PATH|O_NOFOLLOW opens a link itself rather than failing: a link here was swapped in after
      // the path was resolved (or never resolved), and following it could leave the volume.
      if (st.isSymbolicLink()) {
        await child.close();
        throw new SubPathError(`unexpected symlink found ${current}`);
      }
      await parent.close();
      parent = child;
    }
    const out = parent;
    parent = undefined;
    return out;
  } finally {
    await parent?.close();
  }
}

/**
 * findExistingPrefix: the longest existing prefix of pathname below base (following links, as the
 * kubelet's openat without O_NOFOLLOW does; the caller checks where it resolves) and the names left.
 */
async function findExistingPrefix(base: string, pathname: string): Promise<{ existing: string; toCreate: string[] }> {
  const segs = segmentsOf(pathname, base);
  let fd = await open(base, O_PATH);
  let current = base;
  try {
    for (let i = 0; i < segs.length; i++) {
      let child: FileHandle;
      try {
        child = await openAt(fd, segs[i], O_PATH);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { existing: current, toCreate: segs.slice(i) };
        throw err;
      }
      await fd.close();
      fd = child;
      current = join(current, segs[i]);
    }
    return { existing: pathname, toCreate: [] };
  } finally {
    await fd.close();
  }
}

/**
 * doSafeMakeDir: creates base/subdir with mode, each new directory made with mkdirat beneath a
 * descriptor opened safely inside base and entered without following links, so a link a container
 * puts in the way makes the agent refuse rather than create directories on the host.
 */
export async function safeMakeDir(subdir: string, base: string, mode: number): Promise<void> {
  let realBase: string;
  try {
    realBase = await realpath(base);
  } catch (err) {
    throw new SubPathError(`error resolving symlinks in ${base}: ${errText(err)}`);
  }
  const pathname = join(realBase, subdir);
  if (!pathWithinBase(pathname, realBase)) throw new SubPathError(`path ${pathname} is outside of allowed base ${realBase}`);
  try {
    const s = await stat(pathname);
    // An existing directory is left alone even if a link takes it outside: the safe open refuses it next.
    if (s.isDirectory()) return;
    throw new SubPathError(`mkdir ${pathname}: not a directory`);
  } catch (err) {
    if (err instanceof SubPathError) throw err;
  }
  let prefix: { existing: string; toCreate: string[] };
  try {
    prefix = await findExistingPrefix(realBase, pathname);
  } catch (err) {
    throw new SubPathError(`error opening directory ${pathname}: ${errText(err)}`);
  }
  let fullExisting: string;
  try {
    fullExisting = await realpath(prefix.existing);
  } catch (err) {
    throw new SubPathError(`error opening directory ${prefix.existing}: ${errText(err)}`);
  }
  if (!pathWithinBase(fullExisting, realBase)) throw new SubPathError(`path ${fullExisting} is outside of allowed base ${realBase}`);
  let parent: FileHandle;
  try {
    parent = await safeOpen(fullExisting, realBase);
  } catch (err) {
    throw new SubPathError(`cannot open directory ${prefix.existing}: ${errText(err)}`);
  }
  try {
    let current = fullExisting;
    for (const dir of prefix.toCreate) {
      current = join(current, dir);
      try {
        await mkdir(`/proc/self/fd/${parent.fd}/${dir}`, { mode });
      } catch (err) {
        throw new SubPathError(`cannot create directory ${current}: ${errText(err)}`);
      }
      // Between mkdirat and openat the name may have been replaced: never by a link we follow
      // (O_NOFOLLOW); by a file, the next mkdirat fails or the user gets a file they could reach anyway.
      let child: FileHandle;
      try {
        // O_DIRECTORY too: a FIFO swapped in here would otherwise block the open.
        child = await openAt(parent, dir, NOFOLLOW_FLAGS | constants.O_DIRECTORY);
      } catch (err) {
        throw new SubPathError(`cannot open ${current}: ${errText(err)}`);
      }
      await parent.close();
      parent = child;
      // mkdirat's mode went through the umask; the container must get the volume's own mode.
      try {
        await parent.chmod(mode);
      } catch (err) {
        throw new SubPathError(`chmod ${JSON.stringify(current)} failed: ${errText(err)}`);
      }
    }
  } finally {
    await parent.close();
  }
}

function runMount(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mount', args, (err, stdout, stderr) => (err ? reject(new SubPathError(`mount ${args.join(' ')}: ${(stdout + stderr).trim() || err.message}`)) : resolve()));
  });
}

function runUmount(target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('umount', [target], (err, _out, stderr) => (err ? reject(new SubPathError(`error unmounting ${target}: ${stderr.trim() || err.message}`)) : resolve()));
  });
}

/** The bind target of one volumeMount of one container (getSubpathBindTarget). */
export function subPathBindTarget(req: Pick<SubPathRequest, 'podDir' | 'volumeName' | 'containerName' | 'mountIndex'>): string {
  // Volume and container names are DNS labels: safe as directory names.
  return join(req.podDir, SUBPATH_DIR, req.volumeName, req.containerName, String(req.mountIndex));
}

/** doBindSubPath: resolve, check, open safely, and bind the descriptor (or reuse an existing bind of the same file). */
async function bindSubPath(path: string, volumePath: string, req: SubPathRequest, opts: SubPathOptions): Promise<string> {
  let realVolume: string;
  let realPath: string;
  try {
    realVolume = await realpath(volumePath);
  } catch (err) {
    throw new SubPathError(`error resolving symlinks in ${JSON.stringify(volumePath)}: ${errText(err)}`);
  }
  try {
    realPath = await realpath(path);
  } catch (err) {
    throw new SubPathError(`error resolving symlinks in ${JSON.stringify(path)}: ${errText(err)}`);
  }
  if (!pathWithinBase(realPath, realVolume)) throw new SubPathError(`subpath ${JSON.stringify(realPath)} not within volume path ${JSON.stringify(realVolume)}`);
  await opts.afterResolve?.();
  let fd: FileHandle;
  try {
    fd = await safeOpen(realPath, realVolume);
  } catch (err) {
    throw new SubPathError(`error opening subpath ${realPath}: ${errText(err)}`);
  }
  try {
    const opened = await fd.stat();
    // Without mounts (unit tests only) the runtime gets the checked path; the descriptor bind below is
    // what closes the window between this check and the runtime's mount on a node.
    if (!opts.mounts) return realPath;
    const target = subPathBindTarget(req);
    if (isMountPoint(target)) {
      const t = await stat(target);
      // prepareSubpathTarget: a container restart finds its bind in place; reuse it if it is the same file.
      if (t.dev === opened.dev && t.ino === opened.ino) return target;
      await runUmount(target);
    }
    await mkdir(join(target, '..'), { recursive: true, mode: 0o750 });
    await prepareTarget(target, opened.isDirectory());
    try {
      // --no-canonicalize: mount(8) must not resolve /proc/<pid>/fd/<n> into a path (which a container
      // could redirect); the kernel binds the descriptor's object itself.
      await runMount(['--no-canonicalize', '-o', 'bind', `/proc/${process.pid}/fd/${fd.fd}`, target]);
    } catch (err) {
      await (opened.isDirectory() ? rmdir(target) : rm(target, { force: true })).catch(() => undefined);
      throw err;
    }
    return target;
  } finally {
    await fd.close();
  }
}

/** A directory for a directory; for anything else an empty file, which a bind mount can cover. */
async function prepareTarget(target: string, dir: boolean): Promise<void> {
  let existing: Stats | undefined;
  try {
    existing = await stat(target);
  } catch {
    existing = undefined;
  }
  if (existing && existing.isDirectory() !== dir) {
    // Left by an earlier container whose subPath was of the other type; empty, since nothing is mounted there.
    if (existing.isDirectory()) await rmdir(target);
    else await rm(target, { force: true });
    existing = undefined;
  }
  if (existing) return;
  if (dir) await mkdir(target, { mode: 0o750 });
  else await writeFile(target, '', { mode: 0o640 });
}

/**
 * The host path to mount for a volumeMount with a subPath (makeMounts' subPath branch), or the
 * refusal, with the kubelet's messages.
 */
export async function prepareSubPath(req: SubPathRequest, opts: SubPathOptions): Promise<SubPathOutcome> {
  const sub = req.subPath;
  if (isAbsolute(sub)) return { ok: false, message: `error SubPath \`${sub}\` must not be an absolute path`, detail: '' };
  if (sub.split('/').includes('..')) return { ok: false, message: `unable to provision SubPath \`${sub}\`: must not contain '..'`, detail: '' };
  const hostPath = join(req.volumePath, sub);
  let exists = true;
  try {
    await stat(hostPath);
  } catch (err) {
    exists = (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  if (!exists && req.create) {
    try {
      const mode = (await stat(req.volumePath)).mode & 0o7777;
      await safeMakeDir(sub, req.volumePath, mode);
    } catch (err) {
      return { ok: false, message: `failed to create subPath directory for volumeMount "${req.volumeName}" of container "${req.containerName}"`, detail: errText(err) };
    }
  }
  try {
    return { ok: true, hostPath: await bindSubPath(hostPath, req.volumePath, req, opts) };
  } catch (err) {
    return { ok: false, message: `failed to prepare subPath for volumeMount "${req.volumeName}" of container "${req.containerName}"`, detail: errText(err) };
  }
}
