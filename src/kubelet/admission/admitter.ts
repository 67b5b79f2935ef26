// The node's record of its admission verdicts, and the judge of new pods against the pods admitted so
// far (the kubelet's canAdmitPod over getAllocatedPods in HandlePodAdditions): a pod that fits is
// counted from then on; one that does not is remembered as rejected, so later updates of it never start
// it. An admitted pod stops counting once the caller says it holds no resources any more (terminal, or
// terminated after deletion), as the kubelet's filterOutInactivePods does.
//
// Callers: the agent's pod config loop, one call at a time (admit() awaits only when it re-reads the
// Node, and the agent does not judge the next pod meanwhile). Not safe for overlapping admit() calls.
import { fitNode, fitPod, type FitPod } from '../../api/scheduling/fit.ts';
import type { Node, Pod } from '../../api/types.ts';
import { ADMITTED, generalFilter, onlyNodeAffinity, type AdmitResult, type Rejection } from './predicates.ts';

/**
 * The order an agent that starts takes the pods bound to it in: those an earlier agent started (they
 * have a startTime and are not finished) were admitted then and are counted again without being
 * judged; the others (new, finished, or being deleted) follow. Each group oldest first, by
 * creationTimestamp; ties keep the given order. (The kubelet sorts all pods by creation time and
 * judges every one; putting the started ones first is what keeps them from being rejected.)
 */
export function startupOrder(pods: readonly Pod[]): { started: Pod[]; rest: Pod[] } {
  const byAge = pods.map((p, i) => ({ p, i, t: Date.parse(p.metadata?.creationTimestamp ?? '') || 0 }))
    .sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.p);
  const started = (p: Pod) => Boolean(p.status?.startTime) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
  return { started: byAge.filter(started), rest: byAge.filter((p) => !started(p)) };
}

interface AdmittedPod extends FitPod {
  readonly uid: string;
}

export interface PodAdmitterOptions {
  nodeName: string;
  /** Whether an admitted pod still holds its resources (not terminal, or still being terminated). */
  holdsResources(uid: string): boolean;
}

export class PodAdmitter {
  readonly #o: PodAdmitterOptions;
  /** Admitted pods by uid: a pod and its same-named successor both count. */
  readonly #admitted = new Map<string, AdmittedPod>();
  readonly #rejected = new Set<string>();

  constructor(o: PodAdmitterOptions) {
    this.#o = o;
  }

  /** Counts a pod as admitted without judging it (one an earlier agent already started). */
  add(pod: Pod): void {
    const info = this.#info(pod);
    this.#admitted.set(info.uid, info);
  }

  isAdmitted(uid: string): boolean {
    return this.#admitted.has(uid);
  }

  isRejected(uid: string): boolean {
    return this.#rejected.has(uid);
  }

  /** The pod left the API: forget its rejection. An admitted pod keeps counting until it holds nothing. */
  forget(uid: string): void {
    this.#rejected.delete(uid);
  }

  /** Admitted pods that still count (tests). */
  admittedCount(): number {
    this.#prune();
    return this.#admitted.size;
  }

  /**
   * Judges a new pod on `node` and records the verdict. When the node's labels are all that failed it,
   * `refetch` reads the Node again (it may have just been labelled) and the pod is judged once more,
   * as the kubelet does.
   */
  async admit(pod: Pod, node: Node, refetch?: () => Promise<Node>): Promise<AdmitResult> {
    const info = this.#info(pod);
    let failures = this.#judge(info, node);
    if (refetch && onlyNodeAffinity(failures)) {
      const fresh = await refetch().catch(() => undefined);
      if (fresh) failures = this.#judge(info, fresh);
    }
    return this.#record(info, failures[0]);
  }

  /** admit() without the second look at the Node, for callers that cannot wait. */
  admitNow(pod: Pod, node: Node): AdmitResult {
    const info = this.#info(pod);
    return this.#record(info, this.#judge(info, node)[0]);
  }

  #record(info: AdmittedPod, failure: Rejection | undefined): AdmitResult {
    if (failure) {
      this.#rejected.add(info.uid);
      return failure;
    }
    this.#admitted.set(info.uid, info);
    return ADMITTED;
  }

  #info(pod: Pod): AdmittedPod {
    return { ...fitPod(pod), uid: pod.metadata?.uid ?? '' };
  }

  #judge(pod: AdmittedPod, node: Node): Rejection[] {
    this.#prune();
    const others = [...this.#admitted.values()].filter((p) => p.uid !== pod.uid);
    return generalFilter(pod, fitNode(this.#o.nodeName, node, others));
  }

  #prune(): void {
    for (const uid of this.#admitted.keys()) if (!this.#o.holdsResources(uid)) this.#admitted.delete(uid);
  }
}
