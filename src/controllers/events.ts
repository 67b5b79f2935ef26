// core/v1 Events written by controllers (TaintManagerEviction, NodeNotReady, RemovingNode...), for
// `kubectl describe` and `kubectl get events`. Controller events are rare (one per eviction or node
// transition), so unlike the agent's recorder there is no aggregation.
//
// Called from controller workers, concurrently; event() never blocks and never throws: an event is
// best effort, as in client-go's recorder. flush() lets stop() wait for the writes in flight.

import type { ApiClient } from '../client/client.ts';
import { Events } from '../client/resources.ts';
import type { Clock } from '../util/clock.ts';
import { rfc3339 } from '../util/clock.ts';

export interface EventTarget {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export interface EventSink {
  event(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export class ApiEventSink implements EventSink {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #component: string;
  readonly #pending = new Set<Promise<unknown>>();
  #seq = 0;

  constructor(client: ApiClient, clock: Clock, component: string) {
    this.#client = client;
    this.#clock = clock;
    this.#component = component;
  }

  event(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    // Cluster-scoped objects' events live in "default", as client-go's recorder puts them.
    const ns = target.namespace || 'default';
    const now = rfc3339(this.#clock.now());
    const name = `${target.name}.${(BigInt(this.#clock.now()) * 1_000_000n + BigInt(++this.#seq % 1_000_000)).toString(16)}`;
    const p = this.#client
      .create(Events, ns, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: ns },
        involvedObject: { apiVersion: target.apiVersion ?? 'v1', kind: target.kind, namespace: target.namespace, name: target.name, uid: target.uid },
        reason,
        message,
        type,
        source: { component: this.#component },
        reportingComponent: this.#component,
        reportingInstance: this.#component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch(() => {});
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

/** Records events in memory (tests). */
export class MemoryEventSink implements EventSink {
  readonly events: Array<{ target: EventTarget; type: string; reason: string; message: string }> = [];
  event(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ target, type, reason, message });
  }
}
