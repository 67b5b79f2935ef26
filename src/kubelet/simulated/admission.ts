// Kubelet admission on a simulated node: the real agent's PodAdmitter (../admission), judging each new
// pod against the pods this node admitted and still runs, on the node as the simulator registered it
// (its labels, taints and capacity: the simulator keeps no watch on its Node objects, so later edits
// of them through the API are not seen here). A pod bound by hand to a full node fails OutOfcpu,
// OutOfpods... as on a real node instead of running beyond capacity.
import type { Node, Pod } from '../../api/types.ts';
import { PodAdmitter } from '../admission/admitter.ts';
import type { AdmitResult } from '../admission/predicates.ts';

export class SimulatedAdmission {
  readonly #nodeName: string;
  readonly #node: () => Node;
  /** Admitted (or adopted) pods that hold their resources: neither finished nor forgotten. */
  readonly #holding = new Set<string>();
  /** Made at the first pod: a simulator holds thousands of nodes, most with few pods. */
  #admitter: PodAdmitter | undefined;

  constructor(nodeName: string, node: () => Node) {
    this.#nodeName = nodeName;
    this.#node = node;
  }

  /** Judges a new pod; an admitted one holds its resources until release(). */
  admit(pod: Pod): AdmitResult {
    const r = this.#get().admitNow(pod, this.#node());
    if (r.admit) this.#holding.add(pod.metadata?.uid ?? '');
    return r;
  }

  /** Counts a pod found already running (adopted after a restart) without judging it. */
  adopt(pod: Pod): void {
    this.#get().add(pod);
    this.#holding.add(pod.metadata?.uid ?? '');
  }

  /** The pod finished or left: it holds nothing any more. */
  release(uid: string): void {
    this.#holding.delete(uid);
    this.#admitter?.forget(uid);
  }

  #get(): PodAdmitter {
    return (this.#admitter ??= new PodAdmitter({ nodeName: this.#nodeName, holdsResources: (uid) => this.#holding.has(uid) }));
  }
}
