// core/v1 Events written by the node agent (Pulling, Pulled, Created, Started, Killing, Unhealthy,
// BackOff, Failed, FailedMount, SandboxChanged...), as `kubectl describe pod` and `kubectl get events`
// read them (kubectl-wire.md §9: the involvedObject must carry the pod UID).
//
// Callers: pod workers, the prober and the volume manager, concurrently; event() never blocks and
// never throws (an event is best effort, as in client-go's recorder). Repeats of one event (same
// object, fieldPath, type, reason and message) within the aggregation window become one Event whose
// count and lastTimestamp grow, as client-go's EventCorrelator does for identical events.
import { randomBytes } from 'node:crypto';
import type { ApiClient } from '../../client/client.ts';
import { Events } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { rfc3339 } from '../../util/clock.ts';

export type EventType = 'Normal' | 'Warning';

/** The object an event is about; for pods, fieldPath names the container: `spec.containers{web}`. */
export interface InvolvedObject {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventRecorder {
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void;
}

/** The involvedObject of a pod (or of one of its containers). */
export function podRef(pod: { metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string } }, fieldPath?: string): InvolvedObject {
  const ref: InvolvedObject = { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
  if (pod.metadata?.resourceVersion) ref.resourceVersion = pod.metadata.resourceVersion;
  if (fieldPath) ref.fieldPath = fieldPath;
  return ref;
}

/** `spec.containers{name}` or `spec.initContainers{name}`, as the kubelet writes fieldPath. */
/** The event's fieldPath for a container: an app container, an init one (true) or an ephemeral one. */
export function containerFieldPath(name: string, init: boolean | 'ephemeral' = false): string {
  return `${init === 'ephemeral' ? 'spec.ephemeralContainers' : init ? 'spec.initContainers' : 'spec.containers'}{${name}}`;
}

interface Aggregate {
  name: string;
  namespace: string;
  count: number;
  first: string;
  lastAt: number;
  /** The write of this event still in flight, so a repeat patches an Event that exists. */
  pending: Promise<void>;
}

export interface ApiEventRecorderOptions {
  /** The two verbs used; an ApiClient in the agent. */
  client: Pick<ApiClient, 'create' | 'patch'>;
  /** source.host and reportingInstance. */
  host: string;
  component?: string;
  clock: Clock;
  /** Repeats older than this start a new Event (client-go: 10 minutes). */
  aggregateWindowMs?: number;
  onError?: (err: unknown) => void;
}

const MAX_CACHE = 4096;

export class ApiEventRecorder implements EventRecorder {
  readonly #client: Pick<ApiClient, 'create' | 'patch'>;
  readonly #host: string;
  readonly #component: string;
  readonly #clock: Clock;
  readonly #window: number;
  readonly #onError: (err: unknown) => void;
  readonly #cache = new Map<string, Aggregate>();
  #inflight = new Set<Promise<void>>();

  constructor(opts: ApiEventRecorderOptions) {
    this.#client = opts.client;
    this.#host = opts.host;
    this.#component = opts.component ?? 'kubelet';
    this.#clock = opts.clock;
    this.#window = opts.aggregateWindowMs ?? 10 * 60_000;
    this.#onError = opts.onError ?? (() => {});
  }

  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    const now = this.#clock.now();
    const ts = rfc3339(now);
    const key = [obj.uid, obj.fieldPath ?? '', type, reason, message].join('\u0000');
    const namespace = obj.namespace || 'default';
    const agg = this.#cache.get(key);
    if (agg && now - agg.lastAt < this.#window) {
      agg.count++;
      agg.lastAt = now;
      const count = agg.count;
      agg.pending = this.#track(agg.pending.then(() =>
        this.#client.patch(Events, agg.namespace, agg.name, 'merge', { count, lastTimestamp: ts }).then(() => undefined),
      ));
      return;
    }
    const name = `${obj.name}.${(BigInt(now) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE(0))).toString(16)}`;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { ...obj },
      reason,
      message,
      type,
      source: { component: this.#component, host: this.#host },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      reportingComponent: this.#component,
      reportingInstance: this.#host,
    };
    const pending = this.#track(this.#client.create(Events, namespace, body).then(() => undefined));
    if (this.#cache.size >= MAX_CACHE) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(key, { name, namespace, count: 1, first: ts, lastAt: now, pending });
  }

  /** Resolves when every event written so far has reached the API server (or failed). */
  async flush(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  #track(p: Promise<void>): Promise<void> {
    const q = p.catch((err: unknown) => this.#onError(err));
    this.#inflight.add(q);
    void q.finally(() => this.#inflight.delete(q));
    return q;
  }
}

export interface RecordedEvent {
  obj: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
}

/** An in-memory recorder for unit tests. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    this.events.push({ obj, type, reason, message });
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}
