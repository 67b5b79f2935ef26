// The node's heartbeat: a coordination.k8s.io/v1 Lease named after the node in kube-node-lease,
// owned by the Node, renewed every 10 s (the kubelet's nodeLeaseRenewIntervalFraction of 40 s).
// One loop, started and stopped by the agent.
import type { ApiClient } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { Leases, Nodes } from '../../client/resources.ts';
import type { Lease, Node } from '../../api/types.ts';
import type { Clock, Timer } from '../../util/clock.ts';
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
  #timer: Timer | undefined;
  #stopped = true;
  #renewing: Promise<void> | undefined;
  /** Successful renewals (tests). */
  renewals = 0;

  constructor(o: NodeLeaseOptions) {
    this.#o = o;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#renewing;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#renewing = this.renew()
        .catch((err: unknown) => this.#o.onError?.(err))
        .finally(() => this.#schedule(this.#o.renewMs ?? 10_000));
    }, ms);
  }

  async renew(): Promise<void> {
    const { client, nodeName, clock } = this.#o;
    const renewTime = rfc3339Micro(clock.now());
    let lease: Lease | undefined;
    try {
      lease = await client.get<Lease>(Leases, LEASE_NAMESPACE, nodeName);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!lease) {
      const node = await client.get<Node>(Nodes, undefined, nodeName);
      await client.create<Lease>(Leases, LEASE_NAMESPACE, {
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
        await client.update<Lease>(Leases, LEASE_NAMESPACE, next);
      } catch (err) {
        if (!isConflict(err)) throw err;
        return; // someone else wrote it; the next period renews
      }
    }
    this.renewals++;
  }
}
