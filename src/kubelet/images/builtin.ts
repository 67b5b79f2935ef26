// The images tinykube builds offline from Debian's static binaries: the pause image (catatonit) that
// holds each pod's namespaces, and a busybox image for users and tests (no registry is reachable here).
// Called once at node start-up (via ensureBuiltinImages) and by `tinykube image build-busybox`. Builds are
// reproducible: same binaries → same bytes → same image ID, which is what lets imports be skipped.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { buildOciArchive, mergeOciArchives, type BuiltImage, type OciImageSpec } from './oci.ts';
import type { TarEntry } from './tar.ts';
import type { ErrorCode } from '../../util/errors.ts';

/**
 * The sandbox image named in containerd's CRI config. Our own registry host, so that nobody mistakes
 * it for the upstream pause image and containerd never tries to fetch it from the internet.
 */
export const PAUSE_IMAGE = 'tinykube.local/pause:3.9';

/** A bare `busybox` normalises to this, which is what `kubectl run demo --image=busybox` needs. */
export const BUSYBOX_IMAGE = 'docker.io/library/busybox:latest';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Fixed so builds are reproducible (the image ID must not change from one start to the next). */
const CREATED = '2024-01-01T00:00:00Z';
const MTIME = Math.floor(Date.parse(CREATED) / 1000);

export class BuiltinImageError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'BuiltinImageError';
    this.code = code;
  }
}

const CATATONIT_PATHS = ['/usr/bin/catatonit', '/usr/libexec/catatonit/catatonit', '/usr/libexec/podman/catatonit'];
const BUSYBOX_PATHS = ['/bin/busybox', '/usr/bin/busybox'];

function findBinary(candidates: readonly string[], pkg: string): string {
  for (const p of candidates) if (existsSync(p)) return p;
  throw new BuiltinImageError('ERR_IMAGE_BINARY_MISSING', `none of ${candidates.join(', ')} exists: install the Debian package ${pkg}`);
}

/** True when an ELF executable has no PT_INTERP program header, i.e. needs no dynamic loader. */
export function isStaticElf(bin: Buffer): boolean {
  if (bin.length < 64 || bin.readUInt32BE(0) !== 0x7f454c46 || bin[4] !== 2 || bin[5] !== 1) return false; // 64-bit LE only
  const phoff = Number(bin.readBigUInt64LE(0x20));
  const phentsize = bin.readUInt16LE(0x36);
  const phnum = bin.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > bin.length) return false;
    if (bin.readUInt32LE(off) === 3) return false; // PT_INTERP
  }
  return true;
}

function readStatic(path: string, pkg: string): Buffer {
  const bin = readFileSync(path);
  if (!isStaticElf(bin)) throw new BuiltinImageError('ERR_IMAGE_BINARY_NOT_STATIC', `${path} is not a static executable: install the Debian package ${pkg}`);
  return bin;
}

const dir = (path: string, mode = 0o755): TarEntry => ({ path, type: 'dir', mode, mtime: MTIME });
const file = (path: string, data: Buffer | string, mode = 0o644): TarEntry => ({ path, type: 'file', mode, mtime: MTIME, data: Buffer.from(data) });
const link = (path: string, target: string): TarEntry => ({ path, type: 'symlink', mode: 0o777, mtime: MTIME, linkname: target });
// As the Docker Hub image has its applets. A symlink is an inode of its own when containerd unpacks the
// layer: ~280 of them cost each node's containerd ~80 ms of CPU at import (measured), a hard link is a
// directory entry.
const hardlink = (path: string, target: string, mode: number): TarEntry => ({ path, type: 'hardlink', mode, mtime: MTIME, linkname: target });

async function writeAtomically(outFile: string, data: Buffer): Promise<void> {
  await mkdir(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, outFile);
}

export interface BuiltImageFile {
  file: string;
  /** Config digest = the image ID CRI reports. */
  id: string;
  names: string[];
  bytes: number;
}

function toFile(outFile: string, img: BuiltImage): BuiltImageFile {
  return { file: outFile, id: img.id, names: img.names, bytes: img.archive.length };
}

function pauseSpec(names: readonly string[]): OciImageSpec {
  const bin = readStatic(findBinary(CATATONIT_PATHS, 'catatonit'), 'catatonit');
  return {
    names,
    layers: [[dir('dev'), dir('etc'), dir('proc'), dir('sys'), file('catatonit', bin, 0o755)]],
    // 65535 is what the upstream pause image runs as: holding namespaces needs no privilege.
    config: { entrypoint: ['/catatonit', '-P'], env: [DEFAULT_PATH_ENV], workingDir: '/', user: '65535:65535', labels: { 'io.tinykube.image': 'pause' } },
    created: CREATED,
    createdBy: 'tinykube: pause image from the static catatonit (catatonit -P)',
  };
}

export function buildPauseImageArchive(names: readonly string[] = [PAUSE_IMAGE]): BuiltImage {
  return buildOciArchive(pauseSpec(names));
}

/**
 * "1.35.0" from the banner compiled into the installed busybox ("BusyBox v1.35.0 (Debian ...) multi-call
 * binary"), or undefined when it cannot be read. Read from the file rather than by running busybox: a
 * synchronous run blocked `up`'s one thread (twice a start).
 */
export function busyboxVersion(bin = findBinary(BUSYBOX_PATHS, 'busybox-static')): string | undefined {
  try {
    return versionIn(readFileSync(bin));
  } catch {
    return undefined;
  }
}

function versionIn(bin: Buffer): string | undefined {
  const at = bin.indexOf('BusyBox v');
  return at < 0 ? undefined : /^BusyBox v(\d+\.\d+\.\d+)/.exec(bin.toString('latin1', at, at + 32))?.[1];
}

/** `busybox:latest` plus the installed version's `X.Y.Z` and `X.Y` tags (never a version we do not have). */
export function defaultBusyboxNames(): string[] {
  const names = [BUSYBOX_IMAGE];
  const v = busyboxVersion();
  if (v) names.push(`docker.io/library/busybox:${v}`, `docker.io/library/busybox:${v.split('.').slice(0, 2).join('.')}`);
  return names;
}

/** A file for a layer above busybox's (tests: the host's static kubectl in a pod). */
export interface ExtraFile {
  /** Relative to the image's root, without a leading slash. */
  path: string;
  data: Buffer;
  mode?: number;
}

/** The applets `busybox --list` names, but busybox itself and any with a path. */
function appletsIn(list: string): string[] {
  return list.split('\n').filter((a) => a !== '' && a !== 'busybox' && !a.includes('/'));
}

function busyboxSpec(bin: Buffer, applets: readonly string[], names: readonly string[], extra: readonly ExtraFile[]): OciImageSpec {
  // Everything in /bin, as the Docker Hub busybox image does; /usr/bin/env for `#!/usr/bin/env` scripts.
  const entries: TarEntry[] = [
    dir('bin'), file('bin/busybox', bin, 0o755),
    ...[...applets].sort().map((a) => hardlink(`bin/${a}`, 'bin/busybox', 0o755)),
    dir('dev'), dir('etc'),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'),
    file('etc/group', 'root:x:0:\nnobody:x:65534:\n'),
    dir('home'), dir('proc'), dir('root', 0o700), dir('sys'), dir('tmp', 0o1777),
    dir('usr'), dir('usr/bin'), link('usr/bin/env', '/bin/env'), dir('usr/sbin'),
    dir('var'), dir('var/www'),
  ];
  const layers = [entries];
  if (extra.length) {
    const dirs = new Set<string>();
    for (const f of extra) {
      const parts = f.path.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    layers.push([...[...dirs].sort().map((d) => dir(d)), ...extra.map((f) => file(f.path, f.data, f.mode ?? 0o755))]);
  }
  return {
    names,
    layers,
    config: { cmd: ['sh'], env: [DEFAULT_PATH_ENV], labels: { 'io.tinykube.image': 'busybox' } },
    created: CREATED,
    createdBy: `tinykube: busybox image from busybox-static ${versionIn(bin) ?? ''}`.trim(),
  };
}

/** busybox, with `extra` files in a second layer (their parent directories are made). */
export function buildBusyboxImageArchive(names: readonly string[] = [BUSYBOX_IMAGE], extra: readonly ExtraFile[] = []): BuiltImage {
  const path = findBinary(BUSYBOX_PATHS, 'busybox-static');
  const bin = readStatic(path, 'busybox-static');
  return buildOciArchive(busyboxSpec(bin, appletsIn(execFileSync(path, ['--list'], { encoding: 'utf8' })), names, extra));
}

const execFileAsync = promisify(execFile);

/** Writes the busybox image as an OCI archive (atomically) tagged with every name given (`tinykube image busybox`). */
export async function buildBusyboxImage(outFile: string, names: readonly string[] = [BUSYBOX_IMAGE]): Promise<BuiltImageFile> {
  const img = buildOciArchive(await hostBusyboxSpec(names));
  await writeAtomically(outFile, img.archive);
  return toFile(outFile, img);
}

/** The busybox image of this machine's busybox-static, with its applets (`busybox --list`, run without blocking this thread). */
async function hostBusyboxSpec(names: readonly string[]): Promise<OciImageSpec> {
  const path = findBinary(BUSYBOX_PATHS, 'busybox-static');
  const bin = readStatic(path, 'busybox-static');
  const { stdout } = await execFileAsync(path, ['--list'], { encoding: 'utf8' });
  return busyboxSpec(bin, appletsIn(stdout), names, []);
}

/**
 * The pause image and the busybox image (under `busyboxNames`) in one archive, written atomically: a
 * node imports both in one `ctr images import`.
 */
export async function buildBuiltinImagesArchive(outFile: string, busyboxNames: readonly string[]): Promise<void> {
  const pause = buildOciArchive(pauseSpec([PAUSE_IMAGE]));
  const busybox = buildOciArchive(await hostBusyboxSpec(busyboxNames));
  await writeAtomically(outFile, mergeOciArchives([pause.archive, busybox.archive], MTIME));
}

/**
 * A cheap fingerprint of what a build would read (binary paths, sizes and mtimes, builder version),
 * so a cached archive is rebuilt only when Debian upgrades a binary.
 */
export function builtinFingerprint(kind: 'pause' | 'busybox'): string {
  const p = kind === 'pause' ? findBinary(CATATONIT_PATHS, 'catatonit') : findBinary(BUSYBOX_PATHS, 'busybox-static');
  const st = statSync(p);
  return `v2-${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}`;
}
