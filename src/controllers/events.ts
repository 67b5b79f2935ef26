// core/v1 Events written by controllers (TaintManagerEviction, NodeNotReady, RemovingNode,
// SuccessfulCreate...), for `kubectl describe` and `kubectl get events`. As client-go's recorder, a
// spam filter limits each source and object to a burst of 25 events, then one per 5 minutes: a
// ReplicaSet scaled to 1,000 reports its first 25 creations, not 1,000 (EventSourceObjectSpamFilter).
//
// Called from controller workers, concurrently; event() never blocks and never throws: an event is
// best effort, as in client-go's recorder. flush() lets stop() wait for the writes in flight.

import type { ApiClient } from '../client/client.ts';
import { Events } from '../client/resources.ts';
import type { Clock } from '../util/clock.ts';
import { rfc3339 } from '../util/clock.ts';

/** client-go's defaults: a burst of 25 events per source and object, refilled at one per 5 minutes. */
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;
const SPAM_KEYS_MAX = 4096;

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
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #seq = 0;

  constructor(client: ApiClient, clock: Clock, component: string) {
    this.#client = client;
    this.#clock = clock;
    this.#component = component;
  }

  event(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.#allow(`${target.apiVersion ?? 'v1'}/${target.kind}/${target.namespace ?? ''}/${target.name}/${target.uid ?? ''}/${type}`)) return;
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

  /** A token bucket per source and object (the source is this sink's component). */
  #allow(key: string): boolean {
    const now = this.#clock.now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= SPAM_KEYS_MAX) this.#prune(now);
      b = { tokens: SPAM_BURST, at: now };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(SPAM_BURST, b.tokens + (now - b.at) / SPAM_REFILL_MS);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forgets buckets that have refilled completely (they would start full anyway). */
  #prune(now: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + (now - b.at) / SPAM_REFILL_MS >= SPAM_BURST) this.#buckets.delete(k);
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

/** The event target of a namespaced or cluster-scoped core/v1 object (claims, volumes). */
export function coreTarget(kind: string, obj: { metadata?: { namespace?: string; name?: string; uid?: string } }): EventTarget {
  return { apiVersion: 'v1', kind, namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '', uid: obj.metadata?.uid };
}

/**
 * Events a controller would otherwise repeat on every resync of an unchanged state (a claim waiting
 * for its first consumer, a provisioning refused): each is said once per object until what it says
 * changes. Called from one controller's worker.
 */
export class OnceEvents {
  readonly #sink: EventSink;
  readonly #said = new Map<string, string>();

  constructor(sink: EventSink) {
    this.#sink = sink;
  }

  static #key(t: EventTarget): string {
    return `${t.kind}/${t.namespace ?? ''}/${t.name}`;
  }

  /** Says it unless it is what was last said about this object (the same uid, reason and message). */
  say(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = OnceEvents.#key(target);
    const text = `${target.uid ?? ''}\n${reason}\n${message}`;
    if (this.#said.get(key) === text) return;
    this.#said.set(key, text);
    this.#sink.event(target, type, reason, message);
  }

  /** The object went away or its state moved on: the next say() about it is said again. */
  forget(target: EventTarget): void {
    this.#said.delete(OnceEvents.#key(target));
  }
}
