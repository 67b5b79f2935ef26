// Making sure a container's image is on the node before CreateContainer (which never pulls), as the
// kubelet's image manager does (pkg/kubelet/images/image_manager.go): imagePullPolicy decides
// whether to pull; each candidate credential is tried until one pull succeeds; the outcome comes
// back as a value with the waiting reason and message the container status needs, and the events
// the kubelet writes are handed to `onEvent` at the moments it writes them (Pulling before the pull,
// Pulled or Failed after). No API calls from here: the pod worker owns events and status.
//
// Not here: the per-image pull backoff (ImagePullBackOff) and the "Error: ErrImagePull" event the
// kubelet writes when the container cannot start; both belong to the pod worker.
//
// Called by pod workers, concurrently. Concurrent pulls of the same image with the same credentials
// share one CRI PullImage (containerd would fetch the blobs once anyway, but each PullImage holds a
// gRPC call and unpacks again). Different credentials never share a pull: a pod must not get an
// image through another pod's secret.
//
// Progress: CRI reports nothing until the pull ends, so `onProgress` gets the elapsed time, plus
// bytes when the caller passes a `progressSource` (e.g. containerdIngestProgress, ./progress.ts).
import type { AuthConfig, ImageInfo, ImageService, PodSandboxConfig } from '../runtime/runtime.ts';
import { CriError, GRPC_CODE } from '../runtime/errors.ts';
import { realClock, type Clock, type Timer } from '../../util/clock.ts';
import { parseImageReference } from './reference.ts';
import { defaultImagePullPolicy } from '../../api/defaults/pod.ts';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** Kubernetes' default when a container names none: Always for `:latest` or no tag, else IfNotPresent. */
export const defaultPullPolicy: (image: string) => PullPolicy = defaultImagePullPolicy;

/** Why a pull failed, for messages and metrics; the waiting reason stays ErrImagePull as in Kubernetes. */
export type PullFailureCause = 'auth' | 'not-found' | 'unavailable' | 'other';

export type PullWaitingReason = 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName' | 'ImageInspectError';

export interface PullEvent {
  type: 'Normal' | 'Warning';
  reason: 'Pulling' | 'Pulled' | 'Failed' | 'ErrImageNeverPull' | 'InspectFailed';
  message: string;
}

export interface PullProgress {
  image: string;
  elapsedMs: number;
  /** Bytes fetched so far and expected, when a progressSource knows them. */
  bytes?: number;
  totalBytes?: number;
}

export interface EnsureImageOptions {
  /** Receives the kubelet's events for this container, in order. */
  onEvent?(e: PullEvent): void;
  onProgress?(p: PullProgress): void;
  /** Default 1000 ms. */
  progressIntervalMs?: number;
  /** Extra figures for onProgress; failures are ignored. */
  progressSource?(): Promise<{ bytes: number; totalBytes: number } | undefined>;
  /**
   * Air-gapped nodes: when a pull fails because the registry cannot be reached or does not have the
   * image, but the image is on the node (imported, or built in like busybox:latest, whose default
   * policy is Always), run the local image instead of failing. Not Kubernetes' behaviour (off by
   * default), and never after an auth failure: Always exists to make every pod prove its credentials.
   */
  useLocalOnFailure?: boolean;
  clock?: Clock;
}

export type EnsureImageResult =
  | {
      ok: true;
      /** What CRI resolved the image to (its ID); the container status' imageID derives from it. */
      ref: string;
      pulled: boolean;
      /** Since the call began, including waiting for a shared pull. */
      ms: number;
      /** The pull itself (0 when nothing was pulled). */
      pullMs: number;
      info?: ImageInfo;
      /** Set when the pull failed and the local image is used instead (useLocalOnFailure). */
      pullError?: string;
    }
  | {
      ok: false;
      /** The container's waiting reason. */
      reason: PullWaitingReason;
      /** The container's waiting message, as the kubelet sets it. */
      message: string;
      cause?: PullFailureCause;
      /** PullImage calls made (one per credential tried). */
      attempts: number;
      ms: number;
    };

/** Go's grpc codes.Code names, for messages as the kubelet prints a runtime error. */
const CODE_NAMES: Record<number, string> = {
  0: 'OK', 1: 'Canceled', 2: 'Unknown', 3: 'InvalidArgument', 4: 'DeadlineExceeded', 5: 'NotFound', 6: 'AlreadyExists',
  7: 'PermissionDenied', 8: 'ResourceExhausted', 9: 'FailedPrecondition', 10: 'Aborted', 11: 'OutOfRange',
  12: 'Unimplemented', 13: 'Internal', 14: 'Unavailable', 15: 'DataLoss', 16: 'Unauthenticated',
};

/** The error text the kubelet shows for a failed CRI call: `rpc error: code = NotFound desc = ...`. */
export function runtimeErrorText(err: unknown): string {
  if (err instanceof CriError) return `rpc error: code = ${CODE_NAMES[err.grpcCode] ?? err.grpcCode} desc = ${err.detail}`;
  return err instanceof Error ? err.message : String(err);
}

/** Classifies containerd's pull errors (measured against containerd 1.6 and docker-registry 2.8). */
export function classifyPullError(err: unknown): PullFailureCause {
  const text = err instanceof CriError ? err.detail : err instanceof Error ? err.message : String(err);
  if (/\b40[13]\b|unauthori[sz]ed|authorization failed|pull access denied|no basic auth credentials|failed to authorize|authentication required|denied:/i.test(text)) return 'auth';
  if ((err instanceof CriError && err.grpcCode === GRPC_CODE.NOT_FOUND) || /: not found\b|manifest unknown|name unknown|\b404\b/i.test(text)) return 'not-found';
  if (/connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset|tls: |x509: |server gave HTTP response to HTTPS client|dial tcp|deadline exceeded/i.test(text)) return 'unavailable';
  if (err instanceof CriError && (err.code === 'ERR_CRI_UNAVAILABLE' || err.code === 'ERR_CRI_DEADLINE_EXCEEDED')) return 'unavailable';
  return 'other';
}

/** Go's time.Duration String() of a duration truncated to milliseconds ("523ms", "1.5s", "2m3.004s"). */
export function goDuration(ms: number): string {
  const t = Math.max(0, Math.trunc(ms));
  if (t === 0) return '0s';
  if (t < 1000) return `${t}ms`;
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const sMs = t % 60_000;
  const s = `${Math.floor(sMs / 1000)}${sMs % 1000 ? '.' + String(sMs % 1000).padStart(3, '0').replace(/0+$/, '') : ''}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}

/** Kubernetes' utilerrors aggregate text: one message alone, several as "[a, b]" (duplicates once). */
function aggregate(messages: string[]): string {
  const uniq = [...new Set(messages)];
  return uniq.length === 1 ? uniq[0] : `[${uniq.join(', ')}]`;
}

interface SharedPull {
  ok: boolean;
  ref?: string;
  errors: unknown[];
  attempts: number;
  pullMs: number;
}

const inflight = new WeakMap<ImageService, Map<string, Promise<SharedPull>>>();

function authKey(a: AuthConfig): string {
  return JSON.stringify([a.serverAddress ?? '', a.username ?? '', a.password ?? '', a.auth ?? '', a.identityToken ?? '', a.registryToken ?? '']);
}

/** Whether another credential might do better than the one that just failed. */
function worthNextCredential(cause: PullFailureCause): boolean {
  // Registries answer a wrong password with 401, and some hide private repositories behind 404.
  return cause === 'auth' || cause === 'not-found';
}

async function pullWithCandidates(runtime: ImageService, image: string, auths: readonly AuthConfig[], sandboxConfig: PodSandboxConfig | undefined, clock: Clock): Promise<SharedPull> {
  const t0 = clock.now();
  const errors: unknown[] = [];
  const candidates: (AuthConfig | undefined)[] = auths.length > 0 ? [...auths] : [undefined];
  let attempts = 0;
  for (const auth of candidates) {
    attempts++;
    try {
      const ref = await runtime.pullImage(image, auth, sandboxConfig);
      return { ok: true, ref, errors, attempts, pullMs: clock.now() - t0 };
    } catch (err) {
      errors.push(err);
      if (!worthNextCredential(classifyPullError(err))) break;
    }
  }
  return { ok: false, errors, attempts, pullMs: clock.now() - t0 };
}

function sharedPull(runtime: ImageService, image: string, auths: readonly AuthConfig[], sandboxConfig: PodSandboxConfig | undefined, clock: Clock): Promise<SharedPull> {
  let map = inflight.get(runtime);
  if (!map) inflight.set(runtime, (map = new Map()));
  const key = `${image}\0${auths.map(authKey).join('\0')}`;
  const existing = map.get(key);
  if (existing) return existing;
  const p = pullWithCandidates(runtime, image, auths, sandboxConfig, clock).finally(() => map.delete(key));
  map.set(key, p);
  return p;
}

/**
 * Ensures `image` is present according to `policy` (undefined: Kubernetes' default for the image).
 * `auths` are candidates in order (resolvePullAuth in ./registries/auth.ts); empty pulls anonymously.
 * Never throws for pull outcomes; a bug in the runtime layer (not a CriError) still propagates.
 */
export async function ensureImage(
  runtime: ImageService,
  image: string,
  policy: PullPolicy | undefined,
  auths: readonly AuthConfig[],
  sandboxConfig?: PodSandboxConfig,
  opts: EnsureImageOptions = {},
): Promise<EnsureImageResult> {
  const clock = opts.clock ?? realClock;
  const t0 = clock.now();
  const emit = (type: PullEvent['type'], reason: PullEvent['reason'], message: string) => opts.onEvent?.({ type, reason, message });
  const fail = (reason: PullWaitingReason, message: string, attempts: number, cause?: PullFailureCause): EnsureImageResult => {
    const r: EnsureImageResult = { ok: false, reason, message, attempts, ms: clock.now() - t0 };
    if (cause) r.cause = cause;
    return r;
  };

  try {
    if (image === '' || /\s/.test(image)) throw new Error('invalid reference format');
    parseImageReference(image);
  } catch {
    const msg = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
    emit('Warning', 'InspectFailed', msg);
    return fail('InvalidImageName', msg, 0);
  }

  let present: ImageInfo | undefined;
  try {
    present = await runtime.imageStatus(image);
  } catch (err) {
    if (!(err instanceof CriError)) throw err;
    const msg = `Failed to inspect image "${image}": ${runtimeErrorText(err)}`;
    emit('Warning', 'Failed', msg);
    return fail('ImageInspectError', msg, 0);
  }

  const effective = policy ?? defaultPullPolicy(image);
  const shouldPull = effective === 'Always' || (effective === 'IfNotPresent' && !present);
  if (!shouldPull) {
    if (!present) {
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      emit('Warning', 'ErrImageNeverPull', msg);
      return fail('ErrImageNeverPull', msg, 0);
    }
    emit('Normal', 'Pulled', `Container image "${image}" already present on machine`);
    return { ok: true, ref: present.id, pulled: false, ms: clock.now() - t0, pullMs: 0, info: present };
  }

  emit('Normal', 'Pulling', `Pulling image "${image}"`);
  let timer: Timer | undefined;
  if (opts.onProgress) {
    const every = opts.progressIntervalMs ?? 1000;
    const tick = () => {
      timer = clock.setTimeout(() => {
        const elapsedMs = clock.now() - t0;
        const report = (extra?: { bytes: number; totalBytes: number }) => {
          if (timer === undefined) return; // finished while the source was asked
          opts.onProgress?.({ image, elapsedMs, ...(extra ?? {}) });
          tick();
        };
        if (opts.progressSource) opts.progressSource().then(report, () => report());
        else report();
      }, every);
    };
    tick();
  }
  let shared: SharedPull;
  try {
    shared = await sharedPull(runtime, image, auths, sandboxConfig, clock);
  } finally {
    timer?.cancel();
    timer = undefined;
  }

  if (!shared.ok) {
    const unexpected = shared.errors.find((e) => !(e instanceof CriError));
    if (unexpected) throw unexpected;
    const text = aggregate(shared.errors.map(runtimeErrorText));
    const causes = shared.errors.map(classifyPullError);
    // The most telling cause: a credential problem explains a later "not found" from a mirror.
    const cause = causes.includes('auth') ? 'auth' : causes[causes.length - 1];
    if (opts.useLocalOnFailure && present && (cause === 'unavailable' || cause === 'not-found')) {
      emit('Normal', 'Pulled', `Container image "${image}" already present on machine; pulling it failed, using the local image: ${text}`);
      return { ok: true, ref: present.id, pulled: false, ms: clock.now() - t0, pullMs: shared.pullMs, info: present, pullError: text };
    }
    emit('Warning', 'Failed', `Failed to pull image "${image}": ${text}`);
    return fail('ErrImagePull', text, shared.attempts, cause);
  }

  const ref = shared.ref!;
  const info = (await runtime.imageStatus(ref).catch(() => undefined)) ?? (await runtime.imageStatus(image).catch(() => undefined));
  const ms = clock.now() - t0;
  emit('Normal', 'Pulled', `Successfully pulled image "${image}" in ${goDuration(shared.pullMs)} (${goDuration(ms)} including waiting). Image size: ${info?.size ?? 0} bytes.`);
  const r: EnsureImageResult = { ok: true, ref, pulled: true, ms, pullMs: shared.pullMs };
  if (info) r.info = info;
  return r;
}
