// The node's heartbeat: a coordination.k8s.io/v1 Lease named after the node in kube-node-lease,
// owned by the Node, renewed every 10 s (the kubelet's nodeLeaseRenewIntervalFraction of 40 s).
// One loop, started and stopped by the agent; simulated nodes (../simulated) call renew() from their
// own shared scheduler instead of start(). renew() must not run concurrently with itself.
import type { ApiClient } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { Leases, Nodes } from '../../client/resources.ts';
import type { Lease, Node } from '../../api/types.ts';
import type { Clock } from '../../util/clock.ts';
import { Periodic } from '../../util/periodic.ts';
import { rfc3339Micro } from '../../util/clock.ts';

export const LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;

export interface NodeLeaseOptions {
  client: ApiClient;
  clock: Clock;
  nodeName: string;
  renewMs?: number;
  onError?(err: unknown): void;
}

export class NodeLease {
  readonly #o: NodeLeaseOptions;
  readonly #loop: Periodic;
  /** The Lease as the last successful write returned it. */
  #last: Lease | undefined;
  /** Successful renewals (tests). */
  renewals = 0;

  constructor(o: NodeLeaseOptions) {
    this.#o = o;
    this.#loop = new Periodic({ clock: o.clock, periodMs: () => o.renewMs ?? 10_000, run: () => this.renew(), onError: (err) => o.onError?.(err) });
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /**
   * Writes renewTime = now. Like the kubelet, it updates from the Lease it wrote last, so a renewal
   * is one request (5,000 simulated nodes renew 500 times a second); it reads the Lease only the
   * first time, and again after a conflict or a NotFound.
   */
  async renew(): Promise<void> {
    const { client, nodeName, clock } = this.#o;
    const renewTime = rfc3339Micro(clock.now());
    let lease = this.#last;
    this.#last = undefined;
    if (!lease) {
      try {
        lease = await client.get<Lease>(Leases, LEASE_NAMESPACE, nodeName);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (!lease) {
      const node = await client.get<Node>(Nodes, undefined, nodeName);
      this.#last = await client.create<Lease>(Leases, LEASE_NAMESPACE, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: nodeName,
          namespace: LEASE_NAMESPACE,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata?.uid ?? '' }],
        },
        spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime },
      });
    } else {
      const next = { ...lease, spec: { ...lease.spec, holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime } };
      try {
        this.#last = await client.update<Lease>(Leases, LEASE_NAMESPACE, next);
      } catch (err) {
        // Someone else wrote it (conflict) or removed it (NotFound, e.g. with its Node): the next
        // period reads it afresh.
        if (isConflict(err) || isNotFound(err)) return;
        throw err;
      }
    }
    this.renewals++;
  }
}
