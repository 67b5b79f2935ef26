// The CSR signer (kube-controller-manager's "csrsigning"): issues the approved requests of the
// signers Kubernetes defines for the cluster CA — kubernetes.io/kube-apiserver-client,
// kube-apiserver-client-kubelet and kubelet-serving — through the status subresource. A request the
// signer's rules refuse (a kubelet request with another subject, a client request with server
// usages...) gets a Failed condition (reason SignerValidationFailure) and no certificate; other
// signers' requests are left to their own signers.

import {
  approvalOf,
  FAILED,
  hasCondition,
  KUBE_APISERVER_CLIENT_SIGNER,
  KUBELET_CLIENT_SIGNER,
  KUBELET_SERVING_SIGNER,
  parseCsr,
  requestBytes,
  validateApiServerClientUsages,
  validateKubeletClientCsr,
  validateKubeletServingCsr,
  type CertificateSigningRequest,
  type ParsedCsr,
} from '../../api/certificates/csr.ts';
import type { ApiClient } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { CertificateSigningRequests } from '../../client/resources.ts';
import { realClock, rfc3339, type Clock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { DEFAULT_SIGNING_DURATION_MS, signCsr, signingDuration, type SigningCA } from './sign.ts';

/** Each signer's check of a request (isRequestForSignerFn): the reason to fail it, or undefined to sign. */
const SIGNER_RULES: Record<string, (req: ParsedCsr, usages: readonly string[]) => string | undefined> = {
  [KUBE_APISERVER_CLIENT_SIGNER]: (_req, usages) => validateApiServerClientUsages(usages),
  [KUBELET_CLIENT_SIGNER]: validateKubeletClientCsr,
  [KUBELET_SERVING_SIGNER]: validateKubeletServingCsr,
};

export interface CSRSigningControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  ca: SigningCA;
  /** Longest lifetime issued (--cluster-signing-duration; default one year). */
  certTTLMs?: number;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

export class CSRSigningController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #ca: SigningCA;
  readonly #certTTLMs: number;
  readonly #clock: Clock;
  readonly #loop: KeyLoop;

  constructor(o: CSRSigningControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#ca = o.ca;
    this.#certTTLMs = o.certTTLMs ?? DEFAULT_SIGNING_DURATION_MS;
    this.#clock = o.clock ?? realClock;
    // Five workers, as kube-controller-manager runs it.
    this.#loop = new KeyLoop({ clock: o.clock, workers: 5, onError: o.onError ?? ((err) => console.error(`tinykube: csrsigning: ${(err as Error).message}`)) });
  }

  #csrs() {
    return this.#informers.resource<CertificateSigningRequest & { metadata?: { name?: string } }>(CertificateSigningRequests);
  }

  start(): void {
    const q = this.#loop.queue;
    const add = (c: CertificateSigningRequest) => q.add(c.metadata!.name!);
    this.#loop.start(this.#informers, () => [this.#csrs().addEventHandler({ onAdd: add, onUpdate: (_o, c) => add(c) })], (name) => this.sync(name));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(name: string): Promise<void> {
    const csr = this.#csrs().store.get(undefined, name);
    if (!csr || csr.status?.certificate) return;
    if (!approvalOf(csr).approved || approvalOf(csr).denied || hasCondition(csr, FAILED)) return;
    const rule = SIGNER_RULES[csr.spec.signerName];
    if (!rule) return;
    let req: ParsedCsr;
    try {
      req = parseCsr(requestBytes(csr));
    } catch (err) {
      throw new Error(`unable to parse csr "${name}": ${err instanceof Error ? err.message : String(err)}`);
    }
    const usages = csr.spec.usages ?? [];
    const refused = rule(req, usages);
    const now = this.#clock.now();
    let status: CertificateSigningRequest['status'];
    if (refused !== undefined) {
      const failed = { type: FAILED, status: 'True', reason: 'SignerValidationFailure', message: refused, lastUpdateTime: rfc3339(now), lastTransitionTime: rfc3339(now) };
      status = { ...csr.status, conditions: [...(csr.status?.conditions ?? []), failed] };
    } else {
      const pem = await signCsr(this.#ca, req, usages, signingDuration(csr.spec.expirationSeconds, this.#certTTLMs), now);
      status = { ...csr.status, certificate: Buffer.from(pem).toString('base64') };
    }
    try {
      await this.#client.updateStatus(CertificateSigningRequests, undefined, { ...csr, status });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
