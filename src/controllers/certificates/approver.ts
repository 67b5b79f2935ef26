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
// Whether the requestor may have a client certificate approved is kube's SubjectAccessReview, asked of
// the API server for the requestor (user, uid, groups, extra of the request): create on the virtual
// subresource certificatesigningrequests/selfnodeclient or /nodeclient, so RBAC decides (bootstrap
// roles system:certificates.k8s.io:certificatesigningrequests:*, bound as kubeadm binds them: the
// bootstrappers (the join token) may have new nodes' requests approved, system:nodes their own renewals). A
// serving request has no such permission in kube; its requestor must be in system:nodes (or
// system:masters). Everything else stays pending for `kubectl certificate approve`.

// A new node's request made with the bootstrap identity must also carry the node's password (see
// nodepassword.ts): the first join of a name records it, a join with another password is Denied
// (reason NodePasswordRejected, with k3s' message) so that its agent stops with an error instead of
// waiting; renewals, made by the node with its own certificate, need none. The password travels as
// the PKCS#10 challengePassword attribute rather than as an annotation: it is covered by the
// request's signature and the request is immutable, so nobody can edit it on a pending request, and
// `kubectl get/describe csr` never print it. Readers of CertificateSigningRequests (admins, nodes and
// the bootstrap identity, as kube's roles grant) can still decode it: it guards a name against a
// second machine by mistake, not against someone who holds the join token and watches requests.

import {
  approvalOf,
  BOOTSTRAP_USER_PREFIX,
  BOOTSTRAPPERS_GROUP,
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
import type { Node, Secret } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { listWatch } from '../../client/informer.ts';
import { CertificateSigningRequests, Nodes, Secrets, SubjectAccessReviews } from '../../client/resources.ts';
import { rfc3339, type Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import type { EventSink } from '../events.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.ts';
import {
  decideNodePassword,
  hashNodePassword,
  NODE_PASSWORD_NAMESPACE,
  NODE_PASSWORD_REJECTED,
  NODE_PASSWORD_SECRET_TYPE,
  nodeOfPasswordSecret,
  nodeOwnerReference,
  nodePasswordSecret,
  nodePasswordSecretName,
} from './nodepassword.ts';

/** The permissions kube's approver checks with a SubjectAccessReview (virtual subresources of certificatesigningrequests). */
export type ApprovalPermission = 'selfnodeclient' | 'nodeclient' | 'nodeserving';

/** May the requestor of `csr` have it approved as `permission`? Called per decision, concurrently; must not write. */
export type ApprovalAuthorizer = (csr: CertificateSigningRequest, permission: ApprovalPermission) => boolean | Promise<boolean>;

/** A request made with the join token (or a bootstrap token): its requestor is in kube's bootstrappers group (src/apiserver/auth/authn.ts). */
export function madeWithBootstrapToken(csr: CertificateSigningRequest): boolean {
  return (csr.spec.groups ?? []).includes(BOOTSTRAPPERS_GROUP) && (csr.spec.username ?? '').startsWith(BOOTSTRAP_USER_PREFIX);
}

interface SubjectAccessReview {
  apiVersion: 'authorization.k8s.io/v1';
  kind: 'SubjectAccessReview';
  metadata?: { name?: string };
  spec: {
    user?: string;
    uid?: string;
    groups?: string[];
    extra?: Record<string, string[]>;
    resourceAttributes: { group: string; resource: string; subresource: string; verb: string; version: string };
  };
  status?: { allowed?: boolean };
}

/**
 * kube's sarApprover.authorize: a SubjectAccessReview, through `client`, of whether the request's
 * requestor may create certificatesigningrequests/<permission> in certificates.k8s.io. Serving
 * requests (not kube's) need the requestor in system:nodes, or system:masters.
 */
export function subjectAccessReviewAuthorizer(client: Pick<ApiClient, 'create'>): ApprovalAuthorizer {
  return async (csr, permission) => {
    if (permission === 'nodeserving') {
      const groups = csr.spec.groups ?? [];
      return groups.includes(NODES_GROUP) || groups.includes('system:masters');
    }
    const review: SubjectAccessReview = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: csr.spec.username,
        uid: csr.spec.uid,
        groups: csr.spec.groups,
        extra: csr.spec.extra,
        resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: permission, verb: 'create', version: '*' },
      },
    };
    const answer = await client.create<SubjectAccessReview>(SubjectAccessReviews, undefined, review);
    return answer.status?.allowed === true;
  };
}

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
export async function decideApproval(csr: CertificateSigningRequest, req: ParsedCsr, node: (name: string) => Node | undefined, authorize: ApprovalAuthorizer): Promise<ApprovalDecision> {
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
  /** Default: a SubjectAccessReview through `client` (subjectAccessReviewAuthorizer). */
  authorize?: ApprovalAuthorizer;
  clock?: Clock;
  /** Where refused joins are reported (a Warning on the request, and on the Node it claimed). */
  events?: EventSink;
  onError?: (err: unknown) => void;
}

/** Work queue keys that are not request names (which cannot contain ':'): link node NAME's password Secret to its Node. */
const LINK_PREFIX = 'node-password:';

export class CSRApprovingController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #authorize: ApprovalAuthorizer;
  readonly #clock: Clock;
  readonly #events: EventSink | undefined;
  readonly #loop: KeyLoop;

  constructor(o: CSRApprovingControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#authorize = o.authorize ?? subjectAccessReviewAuthorizer(o.client);
    this.#clock = o.clock ?? realClock;
    this.#events = o.events;
    // Five workers, as kube-controller-manager runs it: nodes joining together are approved together.
    this.#loop = new KeyLoop({ clock: o.clock, workers: 5, onError: o.onError ?? ((err) => console.error(`tinykube: csrapproving: ${(err as Error).message}`)) });
  }

  #csrs() {
    return this.#informers.resource<CertificateSigningRequest & { metadata?: { name?: string } }>(CertificateSigningRequests);
  }

  /** Only the node-password Secrets (one per node that ever joined), not every Secret of the cluster. */
  #passwordSecrets() {
    return this.#informers.custom<Secret>('node-password-secrets', () => listWatch<Secret>(this.#client, Secrets, NODE_PASSWORD_NAMESPACE, { fieldSelector: `type=${NODE_PASSWORD_SECRET_TYPE}` }));
  }

  start(): void {
    const q = this.#loop.queue;
    const add = (c: CertificateSigningRequest) => q.add(c.metadata!.name!);
    this.#loop.start(this.#informers, () => [
      this.#csrs().addEventHandler({ onAdd: add, onUpdate: (_o, c) => add(c) }),
      // A serving request may come before its Node lists the addresses it names: look again when nodes change.
      this.#informers.nodes().addEventHandler({
        onAdd: (n) => {
          this.#requeuePending();
          q.add(LINK_PREFIX + n.metadata!.name!);
        },
        onUpdate: () => this.#requeuePending(),
      }),
      // The first join comes before its Node: the Secret is linked to the Node once both exist.
      this.#passwordSecrets().addEventHandler({
        onAdd: (s) => {
          const node = nodeOfPasswordSecret(s.metadata?.name ?? '');
          if (node) q.add(LINK_PREFIX + node);
        },
      }),
    ], (key) => (key.startsWith(LINK_PREFIX) ? this.#link(key.slice(LINK_PREFIX.length)) : this.sync(key)));
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
    if (decision.permission === 'nodeclient' && madeWithBootstrapToken(csr)) {
      const refused = await this.#checkNodePassword(req.commonName.slice(NODE_USER_PREFIX.length), req.challengePassword);
      if (refused !== undefined) {
        await this.#setCondition(csr, 'Denied', NODE_PASSWORD_REJECTED, refused.message);
        this.#events?.event({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name, uid: csr.metadata?.uid }, 'Warning', NODE_PASSWORD_REJECTED, refused.message);
        if (refused.node) this.#events?.event({ apiVersion: 'v1', kind: 'Node', name: refused.node.metadata!.name!, uid: refused.node.metadata?.uid }, 'Warning', NODE_PASSWORD_REJECTED, `a join as this node was refused (certificate signing request ${name}): ${refused.message}`);
        return;
      }
    }
    await this.#setCondition(csr, 'Approved', 'AutoApproved', decision.message);
  }

  /**
   * Checks (and on a first join records) the password of a bootstrap request for `nodeName`; returns
   * why it is refused, or undefined. Reads the Secret and the Node from the server, not the caches: a
   * cache that has not seen them yet must not let a second machine in. A create or replace that
   * loses a race (two joins of one name at once) is decided again against the winner's Secret.
   */
  async #checkNodePassword(nodeName: string, password: string | undefined): Promise<{ message: string; node: Node | undefined } | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#checkNodePasswordOnce(nodeName, password);
      } catch (err) {
        if (attempt >= 3 || !(isAlreadyExists(err) || isConflict(err))) throw err;
      }
    }
  }

  async #checkNodePasswordOnce(nodeName: string, password: string | undefined): Promise<{ message: string; node: Node | undefined } | undefined> {
    const secretName = nodePasswordSecretName(nodeName);
    const [secret, node] = await Promise.all([
      this.#getOrUndefined<Secret>(() => this.#client.get<Secret>(Secrets, NODE_PASSWORD_NAMESPACE, secretName)),
      this.#getOrUndefined<Node>(() => this.#client.get<Node>(Nodes, undefined, nodeName)),
    ]);
    const d = await decideNodePassword({ nodeName, password, secret, node });
    if (!d.accept) return { message: d.message, node };
    if (d.store === 'keep') return undefined;
    const fresh = nodePasswordSecret(nodeName, await hashNodePassword(password!), node);
    if (d.store === 'create') await this.#client.create<Secret>(Secrets, NODE_PASSWORD_NAMESPACE, fresh);
    else await this.#client.update<Secret>(Secrets, NODE_PASSWORD_NAMESPACE, { ...fresh, metadata: { ...fresh.metadata, resourceVersion: secret!.metadata?.resourceVersion } });
    return undefined;
  }

  async #getOrUndefined<T>(get: () => Promise<T>): Promise<T | undefined> {
    try {
      return await get();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Makes node `nodeName`'s password Secret a dependent of its Node, so that the garbage collector
   * deletes it with the Node and the name can be joined again. The Node is read from the server: a
   * reference to a uid that is already gone would have the Secret collected at once.
   */
  async #link(nodeName: string): Promise<void> {
    const secret = this.#passwordSecrets().store.get(NODE_PASSWORD_NAMESPACE, nodePasswordSecretName(nodeName));
    const cached = this.#informers.nodes().store.get(undefined, nodeName);
    if (!secret || !cached) return;
    const refs = secret.metadata?.ownerReferences ?? [];
    if (refs.some((r) => r.kind === 'Node' && r.uid === cached.metadata?.uid)) return;
    const node = await this.#getOrUndefined<Node>(() => this.#client.get<Node>(Nodes, undefined, nodeName));
    if (!node?.metadata?.uid || node.metadata.deletionTimestamp) return;
    // A reference to an earlier Node of this name is replaced: no join has replaced the Secret since
    // that Node went, so the new one was registered by the machine holding the node's certificate,
    // whose password this still is. (Should the garbage collector delete it first, the next join
    // records its password anew.)
    const others = refs.filter((r) => !(r.kind === 'Node' && r.apiVersion === 'v1'));
    try {
      await this.#client.patch(Secrets, NODE_PASSWORD_NAMESPACE, secret.metadata!.name!, 'merge', {
        metadata: { resourceVersion: secret.metadata?.resourceVersion, ownerReferences: [...others, nodeOwnerReference(nodeName, node.metadata.uid)] },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #setCondition(csr: CertificateSigningRequest, type: 'Approved' | 'Denied', reason: string, message: string): Promise<void> {
    const name = csr.metadata!.name!;
    const now = rfc3339(this.#clock.now());
    const conditions = [...(csr.status?.conditions ?? []), { type, status: 'True', reason, message, lastUpdateTime: now, lastTransitionTime: now }];
    try {
      await this.#client.replaceSubresource(CertificateSigningRequests, undefined, name, 'approval', { ...csr, status: { ...csr.status, conditions } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
