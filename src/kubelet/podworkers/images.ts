// Image pulls for containers, honouring imagePullPolicy (Always / IfNotPresent / Never, with
// Kubernetes' default: Always for `:latest` or no tag, else IfNotPresent), with the kubelet's events
// (Pulling, Pulled, Failed, BackOff, ErrImageNeverPull) and waiting reasons (ErrImagePull, then
// ImagePullBackOff while the per-image backoff runs). Credentials come from imagePullSecrets
// (kubernetes.io/dockerconfigjson) and the node's registries.yaml `configs.<host>.auth`.
//
// Air-gapped nodes: with policy Always, a pull that fails while the image is present on the node
// (imported with `tinykube image import`, or a built-in image such as busybox) runs the local image
// and says so in the Pulled event, instead of failing a pod the user could not otherwise run here.
//
// Called by pod workers before creating a container; pulls of one image by several pods at once are
// shared.
import type { Container, Pod } from '../../api/types.ts';
import { parseImageReference } from '../images/reference.ts';
import type { AuthConfig, ImageInfo, ImageService } from '../cri/runtime.ts';
import { containerFieldPath, podRef, type EventRecorder } from '../events/recorder.ts';
import type { ConfigSource } from '../volumes/sources.ts';
import type { RestartBackoff } from './backoff.ts';

export type PullOutcome =
  | { ok: true; imageRef: string; info: ImageInfo | undefined }
  | { ok: false; reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName'; message: string };

export interface RegistryAuth {
  /** registry host → credentials, from registries.yaml */
  configs: Record<string, AuthConfig>;
}

export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tagAt = image.indexOf(':', lastSlash + 1);
  const tag = tagAt >= 0 ? image.slice(tagAt + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function registryHost(image: string): string {
  try {
    return parseImageReference(image).domain;
  } catch {
    return '';
  }
}

function fmtSeconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

export interface ImagePullerOptions {
  images: ImageService;
  recorder: EventRecorder;
  source: ConfigSource;
  backoff: RestartBackoff;
  registryAuth?: RegistryAuth;
  now(): number;
}

export class ImagePuller {
  readonly #o: ImagePullerOptions;
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(o: ImagePullerOptions) {
    this.#o = o;
  }

  async ensure(pod: Pod, c: Container, init: boolean): Promise<PullOutcome> {
    const image = c.image ?? '';
    const ref = podRef(pod, containerFieldPath(c.name, init));
    const rec = this.#o.recorder;
    if (!image || /\s/.test(image)) {
      rec.event(ref, 'Warning', 'InspectFailed', `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`);
      return { ok: false, reason: 'InvalidImageName', message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format` };
    }
    const policy = c.imagePullPolicy ?? defaultPullPolicy(image);
    const present = await this.#o.images.imageStatus(image);
    if (policy === 'Never') {
      if (present) return { ok: true, imageRef: present.id, info: present };
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      rec.event(ref, 'Warning', 'ErrImageNeverPull', msg);
      return { ok: false, reason: 'ErrImageNeverPull', message: msg };
    }
    if (policy === 'IfNotPresent' && present) {
      rec.event(ref, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true, imageRef: present.id, info: present };
    }
    const key = `image/${image}`;
    const wait = this.#o.backoff.remaining(key, 0, this.#lastFailure.get(key) ?? 0);
    if (wait > 0) {
      const msg = `Back-off pulling image "${image}"`;
      rec.event(ref, 'Normal', 'BackOff', msg);
      rec.event(ref, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      return { ok: false, reason: 'ImagePullBackOff', message: msg };
    }
    rec.event(ref, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = this.#o.now();
    try {
      const imageRef = await this.#pull(image, await this.#auth(pod, image));
      const info = await this.#o.images.imageStatus(imageRef).catch(() => undefined) ?? (await this.#o.images.imageStatus(image));
      const took = this.#o.now() - t0;
      this.#o.backoff.reset(key);
      this.#lastFailure.delete(key);
      rec.event(ref, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${fmtSeconds(took)} (${fmtSeconds(took)} including waiting). Image size: ${info?.size ?? 0} bytes.`);
      return { ok: true, imageRef: info?.id ?? imageRef, info };
    } catch (err) {
      const detail = err instanceof Error ? err.message.replace(/^PullImage: /, '') : String(err);
      if (present) {
        rec.event(ref, 'Normal', 'Pulled', `Container image "${image}" present on machine; pulling it failed (${detail}), using the local image`);
        return { ok: true, imageRef: present.id, info: present };
      }
      this.#o.backoff.next(key);
      this.#lastFailure.set(key, this.#o.now());
      const msg = `Failed to pull image "${image}": ${detail}`;
      rec.event(ref, 'Warning', 'Failed', msg);
      rec.event(ref, 'Warning', 'Failed', 'Error: ErrImagePull');
      return { ok: false, reason: 'ErrImagePull', message: msg };
    }
  }

  readonly #lastFailure = new Map<string, number>();

  #pull(image: string, auth: AuthConfig | undefined): Promise<string> {
    const p = this.#inflight.get(image);
    if (p) return p;
    const q = this.#o.images.pullImage(image, auth).finally(() => this.#inflight.delete(image));
    this.#inflight.set(image, q);
    return q;
  }

  async #auth(pod: Pod, image: string): Promise<AuthConfig | undefined> {
    const host = registryHost(image);
    const ns = pod.metadata?.namespace ?? 'default';
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      const s = await this.#o.source.getSecret(ns, ref.name ?? '').catch(() => undefined);
      const raw = s?.data?.['.dockerconfigjson'] ?? s?.data?.['.dockercfg'];
      if (!raw) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
      } catch {
        continue;
      }
      const auths = ((parsed as { auths?: unknown }).auths ?? parsed) as Record<string, { username?: string; password?: string; auth?: string }>;
      for (const [k, v] of Object.entries(auths ?? {})) {
        const h = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
        if (h === host || (host === 'docker.io' && /(^|\.)docker\.io$/.test(h))) {
          const a: AuthConfig = { serverAddress: h };
          if (v.username) a.username = v.username;
          if (v.password) a.password = v.password;
          if (v.auth) a.auth = v.auth;
          return a;
        }
      }
    }
    return this.#o.registryAuth?.configs[host];
  }
}

/** Reads `configs.<host>.auth` of a k3s-style registries.yaml (already parsed). */
export function registryAuthFromYaml(doc: unknown): RegistryAuth {
  const configs: Record<string, AuthConfig> = {};
  const cfgs = (doc as { configs?: Record<string, { auth?: { username?: string; password?: string; auth?: string; identity_token?: string } }> } | null)?.configs ?? {};
  for (const [host, c] of Object.entries(cfgs)) {
    if (!c?.auth) continue;
    const a: AuthConfig = { serverAddress: host };
    if (c.auth.username) a.username = c.auth.username;
    if (c.auth.password) a.password = c.auth.password;
    if (c.auth.auth) a.auth = c.auth.auth;
    if (c.auth.identity_token) a.identityToken = c.auth.identity_token;
    configs[host] = a;
  }
  return { configs };
}
