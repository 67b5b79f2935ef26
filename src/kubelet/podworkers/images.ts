// Image pulls for containers, honouring imagePullPolicy (Always / IfNotPresent / Never, with
// Kubernetes' default: Always for `:latest` or no tag, else IfNotPresent), with the kubelet's events
// (Pulling, Pulled, Failed, BackOff, ErrImageNeverPull) and waiting reasons (ErrImagePull, then
// ImagePullBackOff while the per-image backoff runs). Credentials come from imagePullSecrets
// (kubernetes.io/dockerconfigjson) and the node's registries.yaml (src/kubelet/images/registries).
//
// Air-gapped nodes: with policy Always, a pull that fails while the image is present on the node
// (imported with `tinykube image import`, or a built-in image such as busybox) runs the local image
// and says so in the Pulled event, instead of failing a pod the user could not otherwise run here.
//
// Called by pod workers before creating a container; pulls of one image by several pods at once are
// shared.
import type { Container, Pod, Secret } from '../../api/types.ts';
import type { AuthConfig, ImageInfo, ImageService } from '../runtime/runtime.ts';
import { ensureImage, type PullPolicy } from '../images/puller.ts';
import { PullSecretError, resolvePullAuth, type RegistriesConfig } from '../images/registries/index.ts';
import { containerFieldPath, podRef, type EventRecorder } from '../events/recorder.ts';
import type { ConfigSource } from '../volumes/sources.ts';
import type { RestartBackoff } from './backoff.ts';

export type PullOutcome =
  | { ok: true; imageRef: string; info: ImageInfo | undefined }
  | { ok: false; reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName'; message: string };



export interface ImagePullerOptions {
  images: ImageService;
  recorder: EventRecorder;
  source: ConfigSource;
  backoff: RestartBackoff;
  /** The node's registries.yaml (mirrors and credentials). */
  registries?: RegistriesConfig;
  now(): number;
}

export class ImagePuller {
  readonly #o: ImagePullerOptions;
  readonly #lastFailure = new Map<string, number>();

  constructor(o: ImagePullerOptions) {
    this.#o = o;
  }

  /**
   * The policy decision, the pull and its events are src/kubelet/images/puller.ts's; this adds what
   * belongs to the worker: the pod's pull secrets, and the per-image backoff (ImagePullBackOff).
   */
  async ensure(pod: Pod, c: Container, init: boolean | 'ephemeral'): Promise<PullOutcome> {
    const image = c.image ?? '';
    const ref = podRef(pod, containerFieldPath(c.name, init));
    const rec = this.#o.recorder;
    const policy = c.imagePullPolicy as PullPolicy | undefined;
    const key = `image/${image}`;
    const wait = this.#o.backoff.remaining(key, 0, this.#lastFailure.get(key) ?? 0);
    if (wait > 0 && policy !== 'Never') {
      const present = await this.#o.images.imageStatus(image).catch(() => undefined);
      if (!(policy === 'IfNotPresent' && present)) {
        const msg = `Back-off pulling image "${image}"`;
        rec.event(ref, 'Normal', 'BackOff', msg);
        rec.event(ref, 'Warning', 'Failed', 'Error: ImagePullBackOff');
        return { ok: false, reason: 'ImagePullBackOff', message: msg };
      }
    }
    let auths: AuthConfig[];
    try {
      auths = resolvePullAuth(image, { secrets: await this.#secrets(pod), registries: this.#o.registries });
    } catch (err) {
      if (!(err instanceof PullSecretError)) throw err;
      return this.#failed(ref, key, `Failed to pull image "${image}": ${err.message}`);
    }
    const r = await ensureImage(this.#o.images, image, policy, auths, undefined, {
      onEvent: (e) => rec.event(ref, e.type, e.reason, e.message),
      useLocalOnFailure: true,
    });
    if (r.ok) {
      this.#o.backoff.reset(key);
      this.#lastFailure.delete(key);
      return { ok: true, imageRef: r.info?.id ?? r.ref, info: r.info };
    }
    if (r.reason === 'ErrImagePull') return this.#failed(ref, key, r.message, false);
    return { ok: false, reason: r.reason === 'ImageInspectError' ? 'ErrImagePull' : r.reason, message: r.message };
  }

  #failed(ref: ReturnType<typeof podRef>, key: string, message: string, withEvent = true): PullOutcome {
    this.#o.backoff.next(key);
    this.#lastFailure.set(key, this.#o.now());
    if (withEvent) this.#o.recorder.event(ref, 'Warning', 'Failed', message);
    this.#o.recorder.event(ref, 'Warning', 'Failed', 'Error: ErrImagePull');
    return { ok: false, reason: 'ErrImagePull', message };
  }

  async #secrets(pod: Pod): Promise<Secret[]> {
    const ns = pod.metadata?.namespace ?? 'default';
    const out: Secret[] = [];
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      const s = await this.#o.source.getSecret(ns, ref.name ?? '').catch(() => undefined);
      if (s) out.push(s);
    }
    return out;
  }
}
