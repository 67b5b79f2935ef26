// VolumeBinding: a pod is placed only where its claims' volumes can be used, and its
// WaitForFirstConsumer claims are bound for the node it goes to.
//
// PreFilter: every claim the pod names must exist, not be being deleted, and be bound, unless its
// class delays binding (WaitForFirstConsumer), with the reasons kube-scheduler gives.
// Filter, per node: a bound claim's volume must allow the node (its node affinity); an unbound
// delayed claim that already names a node (volume.kubernetes.io/selected-node, or chosen by another
// pod's Reserve in this scheduler) fits that node only, as kube's FindPodVolumes fast path; the others
// need either an available static volume that fits it on that node (claims matched smallest first),
// or a provisioner that can make one there (the class's allowedTopologies; for the built-in local-path
// class, a storage root on the node and enough of its storage free).
// Reserve: the static volumes chosen are held for this pod, and the nodes chosen for claims to
// provision are remembered (kube's assume caches), so another pod's cycle neither picks the same
// volume nor sends a shared claim to another node before the informers show this pod's writes.
// PreBind (the binding cycle, asynchronous): static volumes are pre-bound to their claims and claims to
// provision get volume.kubernetes.io/selected-node; then it waits until the PV controller reports
// every claim bound, to a volume whose node affinity allows the node (checkBindings). A provisioner
// that gives up removes the annotation, which fails the wait, and the pod is scheduled again, as in
// Kubernetes.

import type { CycleState } from '../../framework/cycle-state.ts';
import { stateKey } from '../../framework/cycle-state.ts';
import type { FilterPlugin, Handle, PreBindPlugin, PreFilterPlugin, ReservePlugin } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { errorStatus, skip, success, unresolvable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../../api/types.ts';
import type { NodeLabels } from '../../../api/scheduling/node-affinity.ts';
import { ANN_BIND_COMPLETED, ANN_SELECTED_NODE, claimClass, findMatchingVolume, requestedBytes, volumeFitsNode } from '../../../api/volumes/binding.ts';
import { ephemeralClaimMismatch, ephemeralClaimName } from '../../../api/volumes/ephemeral.ts';
import { LOCAL_PATH_PROVISIONER, localPathFreeBytes, localPathRoot, localPathUnsupported } from '../../../api/volumes/localpath.ts';

export const NAME = 'VolumeBinding';
export const ERR_REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const ERR_REASON_NOT_ENOUGH_SPACE = 'node(s) did not have enough free storage';
/** PreBind looks at its claims at every claim change, and at least this often. */
const BIND_POLL_MS = 1000;
/** kube-scheduler's bindTimeoutSeconds default. */
const BIND_TIMEOUT_MS = 600_000;

/** The claims a pod's volumes name, and which are generic ephemeral volumes' `<pod>-<volume>`. */
function podClaims(pod: Pod): { name: string; ephemeral: boolean }[] {
  const out: { name: string; ephemeral: boolean }[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push({ name: v.persistentVolumeClaim.claimName, ephemeral: false });
    else if (v.ephemeral) out.push({ name: ephemeralClaimName(pod, v), ephemeral: true });
  }
  return out;
}

/** isPVCFullyBound, also accepting the Bound phase a volume controller reports. */
export function claimIsBound(pvc: PersistentVolumeClaim): boolean {
  if (!pvc.spec?.volumeName) return false;
  return pvc.status?.phase === 'Bound' || pvc.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined;
}

interface PodClaims {
  /** Bound claims and their volumes' names. */
  bound: { claim: PersistentVolumeClaim; volumeName: string }[];
  /** Unbound claims of WaitForFirstConsumer classes. */
  toBind: PersistentVolumeClaim[];
}

/** What binding the pod's delayed claims on one node takes. */
interface NodeDecision {
  /** The node's name and labels (PreBind checks the bound volumes' node affinity against them). */
  node: NodeLabels;
  /** Claim → the static volume it will be bound to. */
  statics: { claim: PersistentVolumeClaim; pv: PersistentVolume }[];
  /** Claims its class's provisioner will make a volume for. */
  provision: PersistentVolumeClaim[];
}

interface BindingState {
  claims: PodClaims;
  decisions: Map<string, NodeDecision>;
  chosen?: NodeDecision;
}

const STATE = stateKey<BindingState>('VolumeBinding');
const claimKey = (c: PersistentVolumeClaim) => `${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`;

/** The class's allowedTopologies hold for the node (none: every node). */
function topologyAllows(sc: StorageClass, node: NodeInfo): boolean {
  const terms = sc.allowedTopologies ?? [];
  if (terms.length === 0) return true;
  return terms.some((t) => (t.matchLabelExpressions ?? []).every((e) => (e.values ?? []).includes(node.labels[e.key] ?? '\u0000')));
}

/** A resourceVersion as a number (the store's are revisions); 0 when it is not one. */
function revision(rv: string | undefined): bigint {
  return rv && /^[0-9]+$/.test(rv) ? BigInt(rv) : 0n;
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin {
  readonly name = NAME;
  readonly #handle: Handle;
  /** Static volumes held by pods between Reserve and the end of PreBind: volume name → claim key. */
  readonly #assumed = new Map<string, string>();
  /** Claims to provision whose node a reserved pod chose, until its PreBind ends: claim key → node and how many pods hold it. */
  readonly #selected = new Map<string, { node: string; holders: number }>();

  constructor(handle: Handle) {
    this.#handle = handle;
  }

  /** podHasPVCs, then GetPodVolumeClaims: bound, delayed (to bind per node) and immediate unbound ones. */
  preFilter(state: CycleState, info: PodInfo): Status {
    const pod = info.pod;
    const names = podClaims(pod);
    if (names.length === 0) return skip();
    const namespace = pod.metadata?.namespace ?? '';
    const claims: PodClaims = { bound: [], toBind: [] };
    let immediate = false;
    for (const { name, ephemeral } of names) {
      const pvc = this.#handle.persistentVolumeClaim(namespace, name);
      if (!pvc) {
        return unresolvable(ephemeral ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${name}"` : `persistentvolumeclaim "${name}" not found`);
      }
      if (pvc.status?.phase === 'Lost') return unresolvable(`persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${pvc.spec?.volumeName ?? ''}"`);
      if (pvc.metadata?.deletionTimestamp) return unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
      const foreign = ephemeral ? ephemeralClaimMismatch(pod, pvc) : undefined;
      if (foreign) return unresolvable(foreign);
      if (claimIsBound(pvc)) {
        claims.bound.push({ claim: pvc, volumeName: pvc.spec?.volumeName ?? '' });
        continue;
      }
      const cls = claimClass(pvc);
      if (cls && this.#handle.volumes.storageClass(cls)?.volumeBindingMode === 'WaitForFirstConsumer' && !pvc.spec?.volumeName) claims.toBind.push(pvc);
      else immediate = true;
    }
    if (immediate) return unresolvable(ERR_REASON_UNBOUND_IMMEDIATE);
    state.write(STATE, { claims, decisions: new Map() });
    return success();
  }

  filter(state: CycleState, _info: PodInfo, node: NodeInfo): Status {
    const s = state.read(STATE);
    if (!s) return success();
    const labels = { name: node.name, labels: node.labels };
    for (const { volumeName } of s.claims.bound) {
      const pv = this.#handle.volumes.persistentVolume(volumeName);
      if (!pv) return unresolvable(ERR_REASON_PV_NOT_EXIST);
      if (!volumeFitsNode(pv, labels)) return unresolvable(ERR_REASON_NODE_CONFLICT);
    }
    if (s.claims.toBind.length === 0) return success();
    const decision: NodeDecision = { node: labels, statics: [], provision: [] };
    const taken = new Set<string>();
    const volumes = this.#handle.volumes.persistentVolumes();
    let localPathWanted = 0;
    // byPVCSize: the smallest claims pick their volumes first.
    const toBind = [...s.claims.toBind].sort((a, b) => requestedBytes(a) - requestedBytes(b));
    for (const claim of toBind) {
      const key = claimKey(claim);
      const selected = this.#selected.get(key)?.node ?? claim.metadata?.annotations?.[ANN_SELECTED_NODE];
      if (selected !== undefined && selected !== node.name) return unresolvable(ERR_REASON_BIND_CONFLICT);
      const available = volumes.filter((pv) => {
        const name = pv.metadata?.name ?? '';
        const holder = this.#assumed.get(name);
        return !taken.has(name) && (holder === undefined || holder === key);
      });
      const pv = selected === undefined ? findMatchingVolume(claim, available, { delayBinding: true, node: labels }) : undefined;
      if (pv) {
        taken.add(pv.metadata?.name ?? '');
        decision.statics.push({ claim, pv });
        continue;
      }
      const sc = this.#handle.volumes.storageClass(claimClass(claim));
      if (!sc || !sc.provisioner || sc.provisioner === 'kubernetes.io/no-provisioner' || !topologyAllows(sc, node)) return unresolvable(ERR_REASON_BIND_CONFLICT);
      if (sc.provisioner === LOCAL_PATH_PROVISIONER) {
        if (!node.node || !localPathRoot(node.node) || localPathUnsupported(claim)) return unresolvable(ERR_REASON_BIND_CONFLICT);
        // A volume already made for the claim (not bound yet) is counted among the node's used storage.
        if (!volumes.some((v) => v.spec?.claimRef?.uid === claim.metadata?.uid)) localPathWanted += requestedBytes(claim);
      }
      decision.provision.push(claim);
    }
    if (localPathWanted > 0 && node.node && localPathFreeBytes(node.node, volumes) < localPathWanted) return unresolvable(ERR_REASON_NOT_ENOUGH_SPACE);
    s.decisions.set(node.name, decision);
    return success();
  }

  reserve(state: CycleState, _info: PodInfo, nodeName: string): Status {
    const s = state.read(STATE);
    if (!s || s.claims.toBind.length === 0) return success();
    const d = s.decisions.get(nodeName);
    if (!d) return errorStatus(new Error(`no volume decision for node ${nodeName}`));
    for (const { claim, pv } of d.statics) this.#assumed.set(pv.metadata?.name ?? '', claimKey(claim));
    for (const claim of d.provision) {
      const held = this.#selected.get(claimKey(claim));
      if (held) held.holders++;
      else this.#selected.set(claimKey(claim), { node: nodeName, holders: 1 });
    }
    s.chosen = d;
    return success();
  }

  unreserve(state: CycleState): void {
    this.#release(state.read(STATE)?.chosen);
  }

  #release(d: NodeDecision | undefined): void {
    for (const { pv } of d?.statics ?? []) this.#assumed.delete(pv.metadata?.name ?? '');
    for (const claim of d?.provision ?? []) {
      const held = this.#selected.get(claimKey(claim));
      if (held && --held.holders === 0) this.#selected.delete(claimKey(claim));
    }
  }

  async preBind(state: CycleState, info: PodInfo, nodeName: string): Promise<Status> {
    const s = state.read(STATE);
    const d = s?.chosen;
    if (s) s.chosen = undefined;
    if (!d || (d.statics.length === 0 && d.provision.length === 0)) return skip();
    const writer = this.#handle.volumeWriter;
    if (!writer) return errorStatus(new Error('binding volumes: this scheduler has no API to bind them with'));
    try {
      for (const { claim, pv } of d.statics) await writer.bindVolume(pv, claim);
      const annotated = new Map<string, bigint>();
      for (const claim of d.provision) annotated.set(claimKey(claim), revision(await writer.selectNode(claim, nodeName)));
      return await this.#waitBound(writer, d, annotated, nodeName);
    } catch (err) {
      return errorStatus(err);
    } finally {
      this.#release(d);
    }
  }

  /** checkBindings until every claim is bound, a provisioner gave up, or the bind timeout passes. */
  async #waitBound(writer: NonNullable<Handle['volumeWriter']>, d: NodeDecision, annotated: ReadonlyMap<string, bigint>, nodeName: string): Promise<Status> {
    const claims = [...d.statics.map((x) => x.claim), ...d.provision];
    const deadline = writer.now() + BIND_TIMEOUT_MS;
    for (;;) {
      let all = true;
      for (const c of claims) {
        const cur = this.#handle.persistentVolumeClaim(c.metadata?.namespace ?? '', c.metadata?.name ?? '');
        if (!cur || cur.metadata?.uid !== c.metadata?.uid) return errorStatus(new Error(`binding volumes: PVC ${JSON.stringify(claimKey(c))} was deleted`));
        if (claimIsBound(cur)) {
          const pv = this.#handle.volumes.persistentVolume(cur.spec?.volumeName ?? '');
          // Not in the cache yet: looked at again on the next round.
          if (!pv) {
            all = false;
            continue;
          }
          if (!volumeFitsNode(pv, d.node)) return errorStatus(new Error(`binding volumes: pv ${JSON.stringify(pv.metadata?.name ?? '')} node affinity doesn't match node ${JSON.stringify(nodeName)}: no matching NodeSelectorTerms`));
          continue;
        }
        all = false;
        // The informer may still show the claim as it was before our annotation: only a later
        // version without it means the provisioner gave up (it removes the annotation).
        const ours = annotated.get(claimKey(c));
        if (ours !== undefined && revision(cur.metadata?.resourceVersion) > ours && cur.metadata?.annotations?.[ANN_SELECTED_NODE] !== nodeName) {
          const why = Object.keys(cur.metadata?.annotations ?? {}).length === 0 ? 'selectedNode annotation reset' : 'provisioning failed';
          return errorStatus(new Error(`binding volumes: ${why} for PVC ${JSON.stringify(c.metadata?.name ?? '')}`));
        }
      }
      if (all) return success();
      if (writer.now() >= deadline) return errorStatus(new Error('binding volumes: timed out waiting for the condition'));
      await writer.claimChange(BIND_POLL_MS);
    }
  }
}

export const factory = (handle: Handle): VolumeBinding => new VolumeBinding(handle);
