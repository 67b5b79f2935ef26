// Volumes of a pod on the host: emptyDir (a directory under the pod dir; medium Memory = tmpfs with
// sizeLimit), hostPath (with the `type` checks), configMap, secret, downwardAPI and projected (files
// written atomically through a `..data` symlink swap, as the kubelet's AtomicWriter does, so an
// update is seen whole by running containers), nfs when the host can mount it, and
// persistentVolumeClaim / generic ephemeral volumes (the claim's bound PersistentVolume: hostPath,
// local or nfs). fsGroup ownership is applied to the types the kubelet applies it to. A volume that
// cannot be set up is a VolumeError whose message is the FailedMount event's.
//
// Callers: the pod worker of the pod, before creating containers and again on resyncs and pod
// updates (setUp is idempotent and refreshes configMap/secret/downwardAPI/projected contents);
// tearDown when the pod is gone. Different pods' calls run concurrently; one pod's calls are
// serialised by its worker.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TokenRequestSpec } from 'kubernetes-types/authentication/v1.js';
import type { ConfigMapProjection, Pod, ProjectedVolumeSource, SecretProjection, ServiceAccountTokenProjection, Volume } from '../../api/types.ts';
import { tryParseQuantity, value as quantityValue } from '../../api/quantity.ts';
import { realClock, type Clock } from '../../util/clock.ts';
import { ANN_DYNAMICALLY_PROVISIONED } from '../../api/volumes/binding.ts';
import { LOCAL_PATH_PROVISIONER } from '../../api/volumes/localpath.ts';
import { isApiError } from '../../client/errors.ts';
import type { Allocatable } from '../downward/values.ts';
import { aggregateMessage, VolumeError } from './errors.ts';
import { setVolumeOwnership } from './ownership.ts';
import { cleanPath, configMapData, DEFAULT_MODE, downwardPayload, keyPayload, secretData, type Files, type Payload } from './projection.ts';
import type { ConfigSource } from './sources.ts';
import { mountsUnder } from './mountinfo.ts';
import { prepareSubPath, type SubPathOutcome, type SubPathPreparer, type SubPathRequest } from './subpath.ts';

export { VolumeError };

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

/** A PV's mountOptions joined with the plugin's own: sorted, without repeats (util.JoinMountOptions). */
export function joinMountOptions(user: readonly string[], system: readonly string[]): string[] {
  return [...new Set([...user, ...system])].sort();
}

/** server:path as the kubelet's NFS plugin writes the mount source (brackets around an IPv6 server). */
export function nfsSource(server: string, path: string): string {
  return `${server.includes(':') ? `[${server}]` : server}:${path}`;
}

/**
 * Writes `files` into `dir` atomically: a fresh `..<stamp>` directory, then the `..data` symlink is
 * swapped by rename, then top-level names are symlinks through `..data`. Unchanged content is not
 * rewritten (nothing for watchers inside the container to see).
 */
export async function atomicWrite(dir: string, files: Files): Promise<boolean> {
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
    if (f.uid !== undefined) await chown(full, f.uid, -1);
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

/**
 * Whether the current `..data` already holds exactly `files` (content and paths, as the AtomicWriter
 * compares: a removed key must be swapped out too; modes are not compared, fsGroup changes them).
 */
function sameFiles(dir: string, files: Files): boolean {
  try {
    for (const [p, f] of files) {
      const b = readFileSync(join(dir, p));
      if (!b.equals(f.data)) return false;
    }
    const present = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory());
    return present.length === files.size;
  } catch {
    return false;
  }
}

export interface VolumeManagerOptions {
  /** `<root>/pods/<uid>/volumes/...` */
  root: string;
  source: ConfigSource;
  /** Whether real mounts (tmpfs, nfs) may be made; false in unit tests (a plain directory instead). */
  mounts?: boolean;
  /** The node's allocatable, for downward API limits a container leaves unset. */
  node?: Allocatable;
  /** For service-account token lifetimes (default: the real clock). */
  clock?: Clock;
  /** [0, 1) for the token renewal's jitter (default Math.random). */
  random?: () => number;
}

/** A token as the kubelet's token manager caches it: the server's stated expiry and lifetime. */
export interface HeldToken {
  token: string;
  /** status.expirationTimestamp, epoch ms. */
  expiresAt: number;
  /** The answer's spec.expirationSeconds. */
  expirationSeconds: number;
}

/** The kubelet's token manager (pkg/kubelet/token): renewal at least daily, jittered by up to 10 s. */
const TOKEN_MAX_TTL_MS = 24 * 3600_000;
const TOKEN_MAX_JITTER_S = 10;

/**
 * Whether a held token is renewed now, by the kubelet's rule: it was issued (its expiry less its stated
 * lifetime) more than 24 h ago, or less than 20% of its lifetime is left, each less a jitter of whole
 * seconds under 10; or it claims to be issued in the future (the clock leapt back).
 */
export function tokenNeedsRenewal(t: HeldToken, now: number, random: () => number): boolean {
  const issuedAt = t.expiresAt - t.expirationSeconds * 1000;
  const jitterMs = Math.floor(random() * TOKEN_MAX_JITTER_S) * 1000;
  if (now > issuedAt + TOKEN_MAX_TTL_MS - jitterMs) return true;
  if (now > t.expiresAt - Math.floor((t.expirationSeconds * 20) / 100) * 1000 - jitterMs) return true;
  return now < issuedAt;
}

export class VolumeManager implements SubPathPreparer {
  readonly #root: string;
  readonly #source: ConfigSource;
  readonly #mounts: boolean;
  readonly #node: Allocatable;
  readonly #clock: Clock;
  readonly #random: () => number;
  /**
   * `<pod uid>/<volume>` whose ownership is done: the kubelet changes it when it mounts a volume, not
   * on every resync (files a container makes later keep the modes it gives them).
   */
  readonly #owned = new Set<string>();
  /** Service-account tokens by pod uid, then by request. */
  readonly #tokens = new Map<string, Map<string, HeldToken>>();

  constructor(opts: VolumeManagerOptions) {
    this.#root = opts.root;
    this.#source = opts.source;
    this.#mounts = opts.mounts ?? true;
    this.#node = opts.node ?? { cpuMilli: 0, memoryBytes: 0 };
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
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
    const base = join(this.podDir(uid), 'volumes');
    const sc = pod.spec?.securityContext;
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
      await this.#ownOnce(uid, v.name, () => setVolumeOwnership(dir, sc?.fsGroup, sc?.fsGroupChangePolicy, false));
      return { hostPath: dir, readOnly: false };
    }
    if (v.hostPath) return { hostPath: await checkHostPath(v.name, v.hostPath.path, v.hostPath.type ?? ''), readOnly: false };
    if (v.configMap) return this.#written(pod, v.name, join(base, 'kubernetes.io~configmap', v.name), await this.#configMapPayload(pod, v.configMap, v.configMap.defaultMode ?? DEFAULT_MODE));
    if (v.secret) {
      const src = v.secret;
      const payload = await this.#secretPayload(pod, { name: src.secretName, items: src.items, optional: src.optional }, src.defaultMode ?? DEFAULT_MODE);
      return this.#written(pod, v.name, join(base, 'kubernetes.io~secret', v.name), payload);
    }
    if (v.downwardAPI) {
      const payload = downwardPayload(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE, this.#node);
      return this.#written(pod, v.name, join(base, 'kubernetes.io~downward-api', v.name), payload);
    }
    if (v.projected) return this.#written(pod, v.name, join(base, 'kubernetes.io~projected', v.name), await this.#projectedPayload(pod, uid, v.projected));
    if (v.nfs) {
      const dir = join(base, 'kubernetes.io~nfs', v.name);
      await this.#mountNFS(v.name, dir, v.nfs.server, v.nfs.path, v.nfs.readOnly ?? false);
      return { hostPath: dir, readOnly: v.nfs.readOnly ?? false };
    }
    if (v.persistentVolumeClaim) return this.#claimVolume(pod, base, v.name, v.persistentVolumeClaim.claimName, v.persistentVolumeClaim.readOnly ?? false, false);
    // A generic ephemeral volume is its own claim, `<pod name>-<volume name>`, made by the ephemeral
    // volume controller and owned by the pod (ephemeral.VolumeClaimName).
    if (v.ephemeral) return this.#claimVolume(pod, base, v.name, `${pod.metadata?.name ?? ''}-${v.name}`, false, true);
    throw new VolumeError(v.name, `volume type of ${JSON.stringify(Object.keys(v).filter((k) => k !== 'name'))} is not supported by this node agent`);
  }

  /** An AtomicWriter volume: the payload written (or the failure reported), then fsGroup ownership. */
  async #written(pod: Pod, volume: string, dir: string, payload: Payload): Promise<MountedVolume> {
    if (!payload.ok) throw new VolumeError(volume, payload.message);
    const uid = pod.metadata?.uid ?? '';
    // These volumes are read-only for the kubelet's ownership masks and always changed (no policy);
    // new contents are new files to change.
    if (await atomicWrite(dir, payload.files)) this.#owned.delete(`${uid}/${volume}`);
    await this.#ownOnce(uid, volume, () => setVolumeOwnership(dir, pod.spec?.securityContext?.fsGroup, undefined, true));
    return { hostPath: dir, readOnly: true };
  }

  async #configMapPayload(pod: Pod, src: ConfigMapProjection, mode: number): Promise<Payload> {
    const name = src.name ?? '';
    const got = await answer(this.#source.getConfigMap(pod.metadata?.namespace ?? 'default', name));
    if (!got.ok) return got;
    const cm = got.value;
    // The kubelet's configMap manager names the resource in the singular: `configmap "x" not found`.
    if (!cm && !src.optional) return { ok: false, message: `configmap "${name}" not found` };
    return keyPayload(configMapData(cm), src.items, mode, src.optional ?? false, 'configmap');
  }

  async #secretPayload(pod: Pod, src: SecretProjection, mode: number): Promise<Payload> {
    const name = src.name ?? '';
    const got = await answer(this.#source.getSecret(pod.metadata?.namespace ?? 'default', name));
    if (!got.ok) return got;
    const s = got.value;
    if (!s && !src.optional) return { ok: false, message: `secret "${name}" not found` };
    return keyPayload(secretData(s), src.items, mode, src.optional ?? false, 'secret');
  }

  /** All sources into one directory, as the projected plugin's collectData: every failure aggregated. */
  async #projectedPayload(pod: Pod, uid: string, src: ProjectedVolumeSource): Promise<Payload> {
    const mode = src.defaultMode ?? DEFAULT_MODE;
    const files: Files = new Map();
    const errors: string[] = [];
    for (const s of src.sources ?? []) {
      let part: Payload | undefined;
      if (s.secret) part = await this.#secretPayload(pod, s.secret, mode);
      else if (s.configMap) part = await this.#configMapPayload(pod, s.configMap, mode);
      else if (s.downwardAPI) part = downwardPayload(pod, s.downwardAPI.items, mode, this.#node);
      else if (s.serviceAccountToken) part = await this.#tokenPayload(pod, uid, s.serviceAccountToken, mode);
      else part = { ok: false, message: `projected source of ${JSON.stringify(Object.keys(s))} is not supported by this node agent` };
      if (!part.ok) errors.push(part.message);
      else for (const [k, f] of part.files) files.set(k, f);
    }
    return errors.length > 0 ? { ok: false, message: aggregateMessage(errors) } : { ok: true, files };
  }

  /**
   * A service-account token bound to the pod, from the TokenRequest API, kept and renewed as the
   * kubelet's token manager does (tokenNeedsRenewal). A failed renewal keeps the old token while it is
   * valid; the next try is the pod's next volume refresh, as the kubelet's is its next remount. Never
   * made up: without the API, the volume fails.
   */
  async #tokenPayload(pod: Pod, uid: string, tp: ServiceAccountTokenProjection, defaultMode: number): Promise<Payload> {
    const p = cleanPath(tp.path);
    if (!p) return { ok: false, message: `invalid path ${JSON.stringify(tp.path)}` };
    const ns = pod.metadata?.namespace ?? 'default';
    const sa = pod.spec?.serviceAccountName || 'default';
    const spec: TokenRequestSpec = {
      audiences: tp.audience ? [tp.audience] : [],
      expirationSeconds: tp.expirationSeconds ?? 3600,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid },
    };
    const key = tokenKey(sa, ns, spec.audiences!, spec.expirationSeconds!, pod.metadata?.name ?? '', uid);
    let held = this.#tokens.get(uid);
    if (!held) this.#tokens.set(uid, (held = new Map()));
    const now = this.#clock.now();
    let t = held.get(key);
    if (!t || tokenNeedsRenewal(t, now, this.#random)) {
      const got = await answer(this.#source.requestToken(ns, sa, spec));
      const r = got.ok ? got.value : { kind: 'refused' as const, message: got.message };
      if (r.kind !== 'token') {
        if (!t) return { ok: false, message: `failed to fetch token: ${r.message}` };
        if (now > t.expiresAt) return { ok: false, message: `token ${key} expired and refresh failed: ${r.message}` };
        return { ok: true, files: new Map([[p, tokenFile(pod, t.token, defaultMode)]]) };
      }
      const seconds = r.expirationSeconds ?? spec.expirationSeconds!;
      const exp = Date.parse(r.expirationTimestamp);
      t = { token: r.token, expiresAt: Number.isFinite(exp) ? exp : now + seconds * 1000, expirationSeconds: seconds };
      held.set(key, t);
    }
    return { ok: true, files: new Map([[p, tokenFile(pod, t.token, defaultMode)]]) };
  }

  /**
   * A claim's bound PersistentVolume, checked as the kubelet's desired-state populator checks it
   * (its messages), then set up by the PV's source.
   */
  async #claimVolume(pod: Pod, base: string, volume: string, claimName: string, readOnly: boolean, ephemeral: boolean): Promise<MountedVolume> {
    const ns = pod.metadata?.namespace ?? 'default';
    const fail = (msg: string): never => {
      throw new VolumeError(volume, `error processing PVC ${ns}/${claimName}: ${msg}`, 'process');
    };
    const gotClaim = await answer(this.#source.getPersistentVolumeClaim(ns, claimName));
    if (!gotClaim.ok) fail(`failed to fetch PVC from API server: ${gotClaim.message}`);
    const pvc = gotClaim.ok ? gotClaim.value : undefined;
    if (!pvc) fail(`failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`);
    const claim = pvc!;
    if (claim.metadata?.deletionTimestamp) fail('PVC is being deleted');
    if (claim.status?.phase !== 'Bound') fail('PVC is not bound');
    const pvName = claim.spec?.volumeName ?? '';
    if (!pvName) fail('PVC has empty pvc.Spec.VolumeName');
    if (ephemeral) {
      const owner = claim.metadata?.ownerReferences?.find((r) => r.controller);
      if (owner?.uid !== pod.metadata?.uid) {
        throw new VolumeError(volume, `PVC ${ns}/${claimName} was not created for pod ${ns}/${pod.metadata?.name ?? ''} (pod is not owner)`, 'process');
      }
    }
    const gotPV = await answer(this.#source.getPersistentVolume(pvName));
    if (!gotPV.ok) fail(`failed to fetch PV ${pvName} from API server: ${gotPV.message}`);
    const pv = gotPV.ok ? gotPV.value : undefined;
    if (!pv) fail(`failed to fetch PV ${pvName} from API server: persistentvolumes "${pvName}" not found`);
    const ref = pv!.spec?.claimRef;
    if (!ref) fail(`found PV object ${pvName} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`);
    if (ref!.uid !== claim.metadata?.uid) fail(`found PV object ${pvName} but its pv.Spec.ClaimRef.UID ${ref!.uid ?? ''} does not point to claim.UID ${claim.metadata?.uid ?? ''}`);
    const spec = pv!.spec!;
    if (spec.volumeMode === 'Block') fail(`volume ${volume} has volumeMode Block, but is specified in volumeMounts`);
    if (spec.hostPath) {
      // rancher's local-path provisioner makes its directories 0777 (`mkdir -m 0777`), so pods of every
      // user can write their claim; the kubelet's DirectoryOrCreate alone would make it 0755.
      if (pv!.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] === LOCAL_PATH_PROVISIONER && !(await lstatFollow(spec.hostPath.path))) {
        await mkdir(spec.hostPath.path, { recursive: true });
        await chmod(spec.hostPath.path, 0o777);
      }
      return { hostPath: await checkHostPath(volume, spec.hostPath.path, spec.hostPath.type ?? ''), readOnly };
    }
    if (spec.local) {
      // The local plugin bind-mounts a path that must already exist; the runtime's bind mount of it is the same.
      const path = spec.local.path;
      const st = await lstatFollow(path);
      if (!st) throw new VolumeError(volume, `path "${path}" does not exist`);
      if (!readOnly && st.isDirectory()) {
        const sc = pod.spec?.securityContext;
        await this.#ownOnce(pod.metadata?.uid ?? '', volume, () => setVolumeOwnership(path, sc?.fsGroup, sc?.fsGroupChangePolicy, false));
      }
      return { hostPath: path, readOnly };
    }
    if (spec.nfs) {
      const ro = readOnly || (spec.nfs.readOnly ?? false);
      // The kubelet names a PV's mount directory after the PV.
      const dir = join(base, 'kubernetes.io~nfs', pvName);
      await this.#mountNFS(volume, dir, spec.nfs.server, spec.nfs.path, ro, spec.mountOptions ?? []);
      return { hostPath: dir, readOnly: ro };
    }
    const kinds = Object.keys(spec).filter((k) => !['accessModes', 'capacity', 'claimRef', 'mountOptions', 'nodeAffinity', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode', 'volumeAttributesClassName'].includes(k));
    throw new VolumeError(volume, `persistent volume source of ${JSON.stringify(kinds)} is not supported by this node agent`);
  }

  async #ownOnce(uid: string, volume: string, change: () => Promise<void>): Promise<void> {
    const key = `${uid}/${volume}`;
    if (this.#owned.has(key)) return;
    await change();
    this.#owned.add(key);
  }

  async #mountNFS(volume: string, dir: string, server: string, path: string, readOnly: boolean, pvOptions: readonly string[] = []): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (mountsUnder(dir)[0] === dir) return;
    // The kubelet would run mount(8) anyway and pass on its "you might need a /sbin/mount.<type>
    // helper program"; saying which package is missing is more use to whoever reads the event.
    if (!NFS_HELPERS.some((h) => existsSync(h))) throw new VolumeError(volume, 'this node has no NFS client: /sbin/mount.nfs not found (install nfs-common)');
    if (!this.#mounts) return;
    await mount(volume, mountArgs('nfs', joinMountOptions(pvOptions, readOnly ? ['ro'] : []), nfsSource(server, path), dir));
  }

  /** A volumeMount's subPath, resolved and bound without leaving the volume (see subpath.ts). */
  prepareSubPath(req: SubPathRequest): Promise<SubPathOutcome> {
    return prepareSubPath(req, { mounts: this.#mounts });
  }

  /** Unmounts (subPath binds under volume-subpaths/ included) and removes everything under the pod dir. Idempotent. */
  async tearDown(uid: string): Promise<void> {
    this.#tokens.delete(uid);
    for (const k of this.#owned) if (k.startsWith(`${uid}/`)) this.#owned.delete(k);
    const dir = this.podDir(uid);
    for (const mp of mountsUnder(dir)) {
      await sh('umount', [mp]).catch(() => sh('umount', ['-l', mp]).catch(() => undefined));
    }
    // Never follow a mount that survived: rm would delete through it (a hostPath or NFS export).
    if (mountsUnder(dir).length > 0) throw new VolumeError('*', `mounts remain under ${dir}`);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The token manager's cache key, which its "expired and refresh failed" error names: Go's `%q/%q/%#v/%#v/%#v`
 * of account, namespace, audiences, lifetime and bound object reference.
 */
export function tokenKey(sa: string, ns: string, audiences: readonly string[], seconds: number, pod: string, uid: string): string {
  const q = (x: string) => JSON.stringify(x);
  return `${q(sa)}/${q(ns)}/[]string{${audiences.map(q).join(', ')}}/${seconds}/v1.BoundObjectReference{Kind:"Pod", APIVersion:"v1", Name:${q(pod)}, UID:${q(uid)}}`;
}

/**
 * An API read whose refusal (403, 5xx: an ApiError) is the volume's FailedMount rather than an
 * agent error; transport failures still throw (nothing can be reported then).
 */
async function answer<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    if (isApiError(err)) return { ok: false, message: err.message };
    throw err;
  }
}

/**
 * A projected token's file, as the projected plugin writes it: with fsGroup or a single runAsUser it
 * is 0600 (owned by that user; fsGroup ownership then makes it 0640), so the token is never
 * world-readable when the pod says who reads it; otherwise defaultMode.
 */
function tokenFile(pod: Pod, token: string, defaultMode: number): { data: Buffer; mode: number; uid?: number } {
  const uid = fsUser(pod);
  const mode = uid !== undefined || pod.spec?.securityContext?.fsGroup !== undefined ? 0o600 : defaultMode;
  return uid !== undefined ? { data: Buffer.from(token), mode, uid } : { data: Buffer.from(token), mode };
}

/** volumeutil.FsUserFrom: the effective runAsUser when every (init and app) container has the same one. */
export function fsUser(pod: Pod): number | undefined {
  let user: number | undefined;
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    const u = c.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
    if (u === undefined || (user !== undefined && u !== user)) return undefined;
    user = u;
  }
  return user;
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
