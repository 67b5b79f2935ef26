// The CSR approver (kube-controller-manager's "csrapproving", plus k3s' approval of kubelet serving
// certificates). It approves, through the approval subresource, only requests it recognises:
//
//  - kubelet client certificates (signer kubernetes.io/kube-apiserver-client-kubelet, subject
//    CN=system:node:<name>, O=system:nodes, usages digital signature + client auth, key encipherment
//    optional, no SANs): a node renewing its own ("selfnodeclient": the requestor is the CN), or a
//    new node joining with the bootstrap identity ("nodeclient");
//  - kubelet serving certificates (signer kubernetes.io/kubelet-serving) that a node asks for in its
//    own name, whose SANs are only that node's name and the addresses its Node object lists.
//
// kube-controller-manager leaves serving certificates to the administrator (or an external
// approver); k3s approves them, and so does tinykube: it has no other approver, and every node's
// agent needs one for the streaming endpoint the API server dials. Checking each name against the
// Node object keeps a node from obtaining a certificate for another node's name or address.
//
// Whether the requestor may have each kind approved is kube's SubjectAccessReview on the virtual
// subresources certificatesigningrequests/{selfnodeclient,nodeclient}; here `authorize` answers it,
// by default with the bindings kube's bootstrap policy and kubeadm make, mapped to tinykube's
// identities (see defaultAuthorize). Everything else stays pending for `kubectl certificate approve`.

import {
  approvalOf,
  KUBELET_CLIENT_SIGNER,
  KUBELET_SERVING_SIGNER,
  NODE_USER_PREFIX,
  NODES_GROUP,
  parseCsr,
  requestBytes,
  validateKubeletClientCsr,
  validateKubeletServingCsr,
  type CertificateSigningRequest,
  type ParsedCsr,
} from '../../api/certificates/csr.ts';
import type { Node } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { CertificateSigningRequests } from '../../client/resources.ts';
import { rfc3339, type Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { isNotFound } from '../../client/errors.ts';

/** The permissions kube's approver checks with a SubjectAccessReview (virtual subresources of certificatesigningrequests). */
export type ApprovalPermission = 'selfnodeclient' | 'nodeclient' | 'nodeserving';

/** May the requestor of `csr` have it approved as `permission`? Called per decision, concurrently; must not write. */
export type ApprovalAuthorizer = (csr: CertificateSigningRequest, permission: ApprovalPermission) => boolean | Promise<boolean>;

/** The user the node join token authenticates as (src/apiserver/auth/authn.ts). */
export const NODE_BOOTSTRAP_USER = 'system:node-bootstrap';

/**
 * kube's default grants, in tinykube's identities: system:nodes may renew their own client
 * certificates (bootstrap policy binds selfnodeclient to system:nodes); the join token's user may
 * request new node client certificates (kubeadm binds nodeclient to the bootstrap token group);
 * serving certificates go to nodes asking in their own name; system:masters may do anything.
 */
export const defaultAuthorize: ApprovalAuthorizer = (csr, permission) => {
  const groups = csr.spec.groups ?? [];
  if (groups.includes('system:masters')) return true;
  if (permission === 'nodeclient') return csr.spec.username === NODE_BOOTSTRAP_USER;
  return groups.includes(NODES_GROUP);
};

export type ApprovalDecision =
  | { approve: true; permission: ApprovalPermission; message: string }
  | { approve: false; why: string };

const CLIENT_MESSAGES: Record<'selfnodeclient' | 'nodeclient', string> = {
  selfnodeclient: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  nodeclient: 'Auto approving kubelet client certificate after SubjectAccessReview.',
};
const SERVING_MESSAGE = 'Auto approving kubelet serving certificate: its names are its node\'s name and addresses.';

/**
 * What the approver does with one request (kube's recognizers in order: selfnodeclient, then
 * nodeclient; then tinykube's serving rule). `node` looks a Node up by name from the cache.
 */
export async function decideApproval(csr: CertificateSigningRequest, req: ParsedCsr, node: (name: string) => Node | undefined, authorize: ApprovalAuthorizer = defaultAuthorize): Promise<ApprovalDecision> {
  const usages = csr.spec.usages ?? [];
  if (csr.spec.signerName === KUBELET_CLIENT_SIGNER && validateKubeletClientCsr(req, usages) === undefined) {
    const tried: ApprovalPermission[] = csr.spec.username === req.commonName ? ['selfnodeclient', 'nodeclient'] : ['nodeclient'];
    for (const p of tried) {
      if (await authorize(csr, p)) return { approve: true, permission: p, message: CLIENT_MESSAGES[p as 'selfnodeclient' | 'nodeclient'] };
    }
    return { approve: false, why: `recognized csr as [${tried.join(' ')}] but subject access review was not approved` };
  }
  if (csr.spec.signerName === KUBELET_SERVING_SIGNER && validateKubeletServingCsr(req, usages) === undefined) {
    if (csr.spec.username !== req.commonName) return { approve: false, why: `a serving certificate for ${req.commonName} requested by ${csr.spec.username ?? ''}` };
    if (!(await authorize(csr, 'nodeserving'))) return { approve: false, why: 'recognized csr as [nodeserving] but its requestor is not a node' };
    const nodeName = req.commonName.slice(NODE_USER_PREFIX.length);
    const n = node(nodeName);
    if (!n) return { approve: false, why: `node ${nodeName} does not exist` };
    const own = new Set([nodeName, ...(n.status?.addresses ?? []).map((a) => a.address)]);
    const foreign = [...req.dnsNames, ...req.ipAddresses].filter((h) => !own.has(h));
    if (foreign.length) return { approve: false, why: `names ${foreign.join(', ')} are not node ${nodeName}'s` };
    return { approve: true, permission: 'nodeserving', message: SERVING_MESSAGE };
  }
  return { approve: false, why: 'not a request this approver recognizes' };
}

export interface CSRApprovingControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  authorize?: ApprovalAuthorizer;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

export class CSRApprovingController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #authorize: ApprovalAuthorizer;
  readonly #clock: Clock;
  readonly #loop: KeyLoop;

  constructor(o: CSRApprovingControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#authorize = o.authorize ?? defaultAuthorize;
    this.#clock = o.clock ?? realClock;
    this.#loop = new KeyLoop({ clock: o.clock, onError: o.onError ?? ((err) => console.error(`tinykube: csrapproving: ${(err as Error).message}`)) });
  }

  #csrs() {
    return this.#informers.resource<CertificateSigningRequest & { metadata?: { name?: string } }>(CertificateSigningRequests);
  }

  start(): void {
    const q = this.#loop.queue;
    const add = (c: CertificateSigningRequest) => q.add(c.metadata!.name!);
    this.#loop.start(this.#informers, () => [
      this.#csrs().addEventHandler({ onAdd: add, onUpdate: (_o, c) => add(c) }),
      // A serving request may come before its Node lists the addresses it names: look again when nodes change.
      this.#informers.nodes().addEventHandler({ onAdd: () => this.#requeuePending(), onUpdate: () => this.#requeuePending() }),
    ], (name) => this.sync(name));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  #requeuePending(): void {
    for (const c of this.#csrs().store.list()) {
      if (c.spec?.signerName === KUBELET_SERVING_SIGNER && !c.status?.certificate) {
        const a = approvalOf(c);
        if (!a.approved && !a.denied) this.#loop.queue.add(c.metadata!.name!);
      }
    }
  }

  async sync(name: string): Promise<void> {
    const csr = this.#csrs().store.get(undefined, name);
    if (!csr || csr.status?.certificate) return;
    const { approved, denied } = approvalOf(csr);
    if (approved || denied) return;
    let req: ParsedCsr;
    try {
      req = parseCsr(requestBytes(csr));
    } catch (err) {
      throw new Error(`unable to parse csr "${name}": ${err instanceof Error ? err.message : String(err)}`);
    }
    const decision = await decideApproval(csr, req, (n) => this.#informers.nodes().store.get(undefined, n), this.#authorize);
    if (!decision.approve) return;
    const now = rfc3339(this.#clock.now());
    const conditions = [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: decision.message, lastUpdateTime: now, lastTransitionTime: now }];
    try {
      await this.#client.replaceSubresource(CertificateSigningRequests, undefined, name, 'approval', { ...csr, status: { ...csr.status, conditions } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
