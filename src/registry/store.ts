// The generic store: Kubernetes REST semantics for any resource over the storage Backend, with a
// per-resource Strategy for what differs (as k8s.io/apiserver's generic registry Store).
//
// Called by the HTTP layer, concurrently for many requests. Objects go in and out as plain JSON
// values; metadata.resourceVersion is always the backend's modRevision of the stored value.

import { randomUUID } from 'node:crypto';
import type { Backend, KeyValue, WatchEvent } from '../storage/backend.ts';
import { CompactedError, FutureRevisionError, KeyExistsError, KeyNotFoundError, RequestTooLargeError, RevisionMismatchError } from '../storage/errors.ts';
import { alreadyExists, badRequest, conflict, expired, notFound, StatusError, timeout } from '../util/status.ts';
import { invalidError, type FieldError } from '../api/field.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/validation/meta.ts';
import { validatePathSegmentName } from '../api/validation/names.ts';
import { jsonObjectEqual } from '../api/equality.ts';

import type { KubeObject, ObjectMeta } from '../api/types.ts';
import { realClock, rfc3339, type Clock } from '../util/clock.ts';
import type { KindDefinition, RequestUser } from './kind.ts';
import type { ResourceInfo, Strategy } from './strategy.ts';

export interface ObjectFilter {
  /** Returns true when the object is selected. */
  (obj: KubeObject): boolean;
}

export interface ListParams {
  namespace?: string;
  filter?: ObjectFilter;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  /**
   * Return the items as the JSON text of a list's items (ListOutput.encoded) instead of objects:
   * what a JSON LIST answers, without decoding and re-encoding every stored object.
   */
  encoded?: boolean;
}

/**
 * Admission of one write, as the API server's request pipeline builds it for the request (its user,
 * resource, subresource, dry run). The store calls it inside the write: mutate after defaulting and
 * before the strategy prepares and validates; validate once the object passed validation, just before
 * it is stored. `old` is undefined on create. Called once per attempt (an update retried after a
 * conflict is admitted again, against the newer object), so plugins must be idempotent.
 */
export interface WriteAdmission {
  mutate?(obj: KubeObject, old: KubeObject | undefined): Promise<void>;
  validate?(obj: KubeObject, old: KubeObject | undefined): Promise<void>;
}

export interface ListOutput {
  /** The selected objects (empty when ListParams.encoded was asked for). */
  items: KubeObject[];
  /**
   * With ListParams.encoded: each item's JSON as a list carries it (no apiVersion/kind,
   * metadata.resourceVersion set), in key order.
   */
  encoded?: string[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface StoreWatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface WatchParams {
  namespace?: string;
  filter?: ObjectFilter;
  /** "" or "0": start with synthetic ADDED events for the current state; else changes after this revision. */
  resourceVersion?: string;
  /** Optional extra gate on events (e.g. fieldSelector on a name). */
  onEvent: (ev: StoreWatchEvent) => void;
  onError: (err: StatusError) => void;
}

export interface StoreWatch {
  close(): void;
  /** The revision of the last event delivered (for bookmarks). */
  lastRevision(): number;
}

export interface WriteOptions {
  dryRun?: boolean;
  admission?: WriteAdmission;
  /**
   * Records the write in metadata.managedFields (the API server's field manager): called with the
   * object as the strategy prepared it and the stored object (undefined on create), before
   * validation. Must only change `obj.metadata.managedFields`.
   */
  track?(obj: KubeObject, old: KubeObject | undefined): void;
  /** Who asks for a create, for strategies that record it (CertificateSigningRequests' spec.username). */
  user?: RequestUser;
}

export interface DeleteParams extends WriteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

export interface DeleteOutput {
  /** The object as it was deleted, or as it is now while deletion is pending. */
  object: KubeObject;
  /** True when the object is gone from storage; false when deletion is pending (graceful or finalizers). */
  deleted: boolean;
}

/** Hooks for resources whose deletion is not immediate (pods bound to a node, objects with finalizers). */
export interface DeletionPolicy {
  /** Grace period to apply: 0 deletes at once. `requested` is from DeleteOptions. */
  gracePeriod(obj: KubeObject, requested: number | undefined): number;
  /** True while something other than metadata.finalizers holds the deletion (namespaces: spec.finalizers). */
  holds?(obj: KubeObject): boolean;
  /** Adjusts an object when its deletion starts (namespaces: phase Terminating). */
  onDeleting?(obj: KubeObject): void;
}

/**
 * A kind's work beside its stored object, for kinds that hold something outside it (Services: their
 * ClusterIPs and node ports, claimed by keys of their own, as kube-apiserver's service REST does in its
 * BeginCreate, BeginUpdate and AfterDelete hooks). The store calls begin* once the object passed
 * validation and admission, once per attempt (a retried update begins again), and ends every begun
 * transaction exactly once: commit after the write is stored, revert when it fails or is a dry run.
 * begin* may change the object (it fills in what it allocated) and throws a StatusError to refuse it.
 */
export interface WriteHooks {
  beginCreate?(obj: KubeObject, dryRun: boolean): Promise<WriteTransaction>;
  beginUpdate?(obj: KubeObject, old: KubeObject, dryRun: boolean): Promise<WriteTransaction>;
  /** After the object left storage; failures are the hook's to report (a repair pass catches up). */
  afterDelete?(obj: KubeObject): Promise<void>;
}

export interface WriteTransaction {
  commit(): Promise<void>;
  revert(): Promise<void>;
}

const maxRetries = 16;

/** A storage event decoded once for all its watchers; `prev` only once a watcher needs it (undefined = not yet). */
interface DecodedEvent {
  cur: KubeObject | null;
  prev?: KubeObject | null;
}

/**
 * Objects decoded for watchers, by key, newest last: an update event's previous state is usually the
 * state the key's last event decoded, so filtered watchers (the scheduler's, a node's) need not parse
 * it again. Bounded: a miss only costs a decode.
 */
const RECENT_DECODES = 2048;

/**
 * TINYKUBE_FREEZE_SHARED=1 (set by scripts/run-tests.ts for the whole suite) deep-freezes these
 * shared objects, so code that writes to one fails loudly in tests instead of corrupting what other
 * watchers and writers see.
 */
const freezeShared = process.env.TINYKUBE_FREEZE_SHARED === '1';

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}

export class Store {
  readonly kind: KindDefinition;
  readonly info: ResourceInfo;
  readonly strategy: Strategy;
  readonly #backend: Backend;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #deletion: DeletionPolicy | undefined;
  readonly #apiVersion: string;
  /** Set when the kind is stored in another version than it is served in. */
  readonly #storageApiVersion: string | undefined;
  readonly #hooks: WriteHooks | undefined;

  constructor(backend: Backend, kind: KindDefinition, opts: { clock?: Clock; hooks?: WriteHooks } = {}) {
    this.#backend = backend;
    this.#hooks = opts.hooks;
    this.kind = kind;
    this.strategy = kind.strategy;
    this.info = kind.info;
    this.#clock = opts.clock ?? realClock;
    this.#deletion = kind.deletion;
    const g = kind.info.group ? `${kind.info.group}/` : '';
    this.#apiVersion = `${g}${kind.info.version}`;
    this.#storageApiVersion = kind.storageVersion && kind.storageVersion !== kind.info.version ? `${g}${kind.storageVersion}` : undefined;
    // A kind sharing another's storage lives at that kind's keys (kind.ts SharedStorage).
    const shared = kind.storage;
    this.#prefix = shared ? `/registry/${shared.group ? `${shared.group}/` : ''}${shared.resource}/` : `/registry/${g}${this.info.resource}/`;
  }

  /** The resource name used in Status messages ("pods", "leases.coordination.k8s.io"). */
  get qualifiedResource(): string {
    return this.info.group ? `${this.info.resource}.${this.info.group}` : this.info.resource;
  }

  key(namespace: string | undefined, name: string): string {
    return this.info.namespaced ? `${this.#prefix}${namespace}/${name}` : `${this.#prefix}${name}`;
  }

  listPrefix(namespace: string | undefined): string {
    return this.info.namespaced && namespace ? `${this.#prefix}${namespace}/` : this.#prefix;
  }

  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    const kv = await this.#backend.get(this.key(namespace, name));
    if (!kv) throw notFound(this.qualifiedResource, name);
    return this.#decode(kv);
  }

  async tryGet(namespace: string | undefined, name: string): Promise<KubeObject | null> {
    const kv = await this.#backend.get(this.key(namespace, name));
    return kv ? this.#decode(kv) : null;
  }

  async list(p: ListParams): Promise<ListOutput> {
    const prefix = this.listPrefix(p.namespace);
    let revision = 0;
    let startAfter: string | undefined;
    // Keys after startAfter at `revision`, carried by the continue token so pages need not count.
    let known: number | undefined;
    if (p.continue) {
      const tok = decodeContinue(p.continue, prefix);
      revision = tok.rv;
      startAfter = tok.start;
      known = tok.n;
    } else if (p.resourceVersion && p.resourceVersion !== '0') {
      const rv = parseResourceVersion(p.resourceVersion);
      const current = await this.#backend.currentRevision();
      if (rv > current) throw timeout(`Too large resource version: ${rv}, current: ${current}`);
      // Exact reads an old snapshot; NotOlderThan (and unset, the legacy meaning) serves the latest.
      if (p.resourceVersionMatch === 'Exact') revision = rv;
    }
    if (p.resourceVersionMatch && !['Exact', 'NotOlderThan'].includes(p.resourceVersionMatch)) {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${p.resourceVersionMatch}": supported values: "Exact", "NotOlderThan"`);
    }
    if (p.resourceVersionMatch && !p.resourceVersion) {
      throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    }
    const limit = p.limit && p.limit > 0 ? p.limit : 0;
    const items: KubeObject[] = [];
    const encoded: string[] | undefined = p.encoded ? [] : undefined;
    const count = () => (encoded ? encoded.length : items.length);
    let readRevision = revision;
    let more = false;
    let lastKey = startAfter;
    let remaining: number | undefined;
    let consumed = 0;
    // Keep reading pages until `limit` matching items are found: filters may drop many rows.
    for (;;) {
      const want = limit ? Math.max(limit - count(), 0) : 0;
      // A filter may drop many rows: read ahead. Without one every row is kept, so read just enough.
      const batch = !limit ? 0 : p.filter ? Math.min(Math.max(want * 2, 64), 10_000) : want;
      let res;
      try {
        res = await this.#backend.list(prefix, { revision: readRevision || undefined, limit: batch, startAfter: lastKey, skipRemaining: known !== undefined });
      } catch (err) {
        throw mapStorageError(err, this.qualifiedResource, '');
      }
      readRevision = res.revision;
      let i = 0;
      for (; i < res.items.length; i++) {
        const kv = res.items[i]!;
        if (limit && count() >= limit) break;
        lastKey = kv.key;
        consumed++;
        if (this.info.namespaced && !p.namespace && kv.key.slice(prefix.length).indexOf('/') < 0) continue;
        if (encoded && !p.filter && !this.kind.normalize && !this.#storageApiVersion && !this.kind.storage) {
          encoded.push(this.#listItemJSON(kv));
          continue;
        }
        const obj = this.#decode(kv);
        if (p.filter && !p.filter(obj)) continue;
        if (encoded) encoded.push(listItemOf(obj));
        else items.push(obj);
      }
      if (limit && count() >= limit) {
        more = i < res.items.length || res.more;
        if (more) remaining = known !== undefined ? Math.max(known - consumed, 0) : res.remaining !== undefined ? res.remaining + (res.items.length - i) : undefined;
        break;
      }
      if (!res.more) break;
      if (!limit) continue;
    }
    const out: ListOutput = { items, resourceVersion: String(readRevision) };
    if (encoded) out.encoded = encoded;
    if (more && lastKey) {
      out.continue = encodeContinue(readRevision, lastKey, remaining);
      if (!p.filter && remaining !== undefined) out.remainingItemCount = remaining;
    }
    return out;
  }

  async count(namespace?: string): Promise<number> {
    return this.#backend.count(this.listPrefix(namespace));
  }

  /** Starts a watch. Events are delivered through the callbacks; errors end it. */
  async watch(p: WatchParams): Promise<StoreWatch> {
    const prefix = this.listPrefix(p.namespace);
    let last = 0;
    let from: number;
    const rv = p.resourceVersion ?? '';
    const initial: StoreWatchEvent[] = [];
    if (rv === '' || rv === '0') {
      const snapshot = await this.list({ namespace: p.namespace, filter: p.filter });
      from = Number(snapshot.resourceVersion);
      for (const obj of snapshot.items) initial.push({ type: 'ADDED', object: obj });
    } else {
      from = parseResourceVersion(rv);
      const current = await this.#backend.currentRevision();
      if (from > current) throw timeout(`Too large resource version: ${from}, current: ${current}`);
    }
    last = from;
    let closed = false;
    const deliver = (ev: StoreWatchEvent) => {
      if (!closed) p.onEvent(ev);
    };
    const watcher = this.#backend.watch(prefix, from, {
      onEvent: (ev: WatchEvent) => {
        if (closed) return;
        last = ev.kv.modRevision;
        if (this.info.namespaced && !p.namespace && ev.kv.key.slice(prefix.length).indexOf('/') < 0) return;
        const out = this.#translate(ev, p.filter);
        if (out) deliver(out);
      },
      onError: (err: Error) => {
        if (closed) return;
        closed = true;
        if (err instanceof CompactedError) p.onError(expired(`too old resource version: ${err.requested} (${err.compacted})`));
        else p.onError(new StatusError(500, 'InternalError', `watch ended: ${err.message}`));
      },
    });
    for (const ev of initial) deliver(ev);
    return {
      close() {
        closed = true;
        watcher.close();
      },
      lastRevision: () => last,
    };
  }

  #translate(ev: WatchEvent, filter: ((o: KubeObject) => boolean) | undefined): StoreWatchEvent | null {
    const d = this.#decodeEvent(ev);
    if (ev.type === 'delete') {
      const prev = this.#prevOf(ev, d);
      if (!prev || (filter && !filter(prev))) return null;
      return { type: 'DELETED', object: prev };
    }
    const cur = d.cur!;
    const now = !filter || filter(cur);
    // Without a filter every previous state was in the selection: no need to decode it.
    const before = !ev.created && ev.prevKv !== undefined && (!filter || filter(this.#prevOf(ev, d)!));
    if (now && !before) return { type: 'ADDED', object: cur };
    if (now && before) return { type: 'MODIFIED', object: cur };
    if (!now && before) {
      // Left the selection: watchers see it go, as the apiserver's cacher does.
      return { type: 'DELETED', object: cur };
    }
    return null;
  }

  /**
   * Decodes a storage event once for all watchers (the backend hands every watcher the same event
   * object). The objects are shared: watch consumers must not modify them.
   */
  #decodeEvent(ev: WatchEvent): DecodedEvent {
    let d = this.#decodedEvents.get(ev);
    if (!d) {
      d = { cur: ev.type === 'delete' ? null : this.#decodeRecent(ev.kv, true) };
      this.#decodedEvents.set(ev, d);
    }
    return d;
  }

  /**
   * Per store, not per process: stores of other versions (CRDs) or kinds sharing the storage
   * (events.k8s.io) see the same backend events and decode them to other objects.
   */
  readonly #decodedEvents = new WeakMap<WatchEvent, DecodedEvent>();

  #prevOf(ev: WatchEvent, d: DecodedEvent): KubeObject | null {
    if (d.prev !== undefined) return d.prev;
    if (!ev.prevKv || (ev.type === 'put' && ev.created)) return (d.prev = null);
    const prev = this.#decodeRecent(ev.prevKv, false);
    // A deletion is reported with the last state and the deletion's revision (on a copy: the
    // decoded previous state may be shared with an earlier event).
    d.prev = ev.type === 'delete' ? { ...prev, metadata: { ...prev.metadata, resourceVersion: String(ev.kv.modRevision) } } : prev;
    return d.prev;
  }

  #decodeRecent(kv: KeyValue, remember: boolean): KubeObject {
    const hit = this.#recent.get(kv.key);
    if (hit && hit.rev === kv.modRevision) return hit.obj;
    const obj = this.#decode(kv);
    if (freezeShared) deepFreeze(obj);
    if (remember) {
      this.#recent.delete(kv.key);
      this.#recent.set(kv.key, { rev: kv.modRevision, obj });
      if (this.#recent.size > RECENT_DECODES) this.#recent.delete(this.#recent.keys().next().value!);
    }
    return obj;
  }
  readonly #recent = new Map<string, { rev: number; obj: KubeObject }>();

  async create(namespace: string | undefined, obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const meta = (obj.metadata ??= {});
    if (this.info.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    this.strategy.defaults(obj);
    this.#resetServerMeta(meta);
    if (opts.admission?.mutate) await opts.admission.mutate(obj, undefined);
    this.strategy.prepareForCreate(obj, { user: opts.user });
    this.#setTypeMeta(obj);
    opts.track?.(obj, undefined);
    this.#check(obj, this.strategy.validate(obj));
    // Then what every resource gets whatever its strategy checks (rest.BeforeCreate): a name that is
    // a valid path segment (core/v1 events validate no name of their own), sane labels, annotations,
    // finalizers and owner references.
    this.#check(obj, validateObjectMeta(meta, { namespaced: this.info.namespaced, nameFn: validatePathSegmentName, kubeFinalizers: false }));
    if (opts.admission?.validate) await opts.admission.validate(obj, undefined);
    if (!this.#hooks?.beginCreate) return this.#createStored(namespace, obj, opts, true);
    // What the hooks claim names the object, so a generated name that collides is replaced here,
    // with fresh claims, rather than under them.
    const pristine = meta.generateName ? structuredClone(obj) : undefined;
    for (let attempt = 0; ; attempt++) {
      const txn = await this.#hooks.beginCreate(obj, opts.dryRun === true);
      try {
        const out = await this.#createStored(namespace, obj, opts, false);
        await (opts.dryRun ? txn.revert() : txn.commit());
        return out;
      } catch (err) {
        await txn.revert();
        if (!(err instanceof StatusError && err.code === 409 && pristine && attempt < 5)) throw err;
        // Again from the object as it was before the hooks filled it in, under a new name.
        obj = structuredClone(pristine);
        obj.metadata!.name = pristine.metadata!.generateName + randomSuffix();
      }
    }
  }

  async #createStored(namespace: string | undefined, obj: KubeObject, opts: WriteOptions, rename: boolean): Promise<KubeObject> {
    const meta = obj.metadata!;
    if (opts.dryRun) return obj;
    const name = meta.name!;
    const stored = this.#encode(obj);
    try {
      const rev = await this.#backend.create(this.key(namespace, name), stored);
      meta.resourceVersion = String(rev);
      return obj;
    } catch (err) {
      if (err instanceof KeyExistsError) {
        if (meta.generateName && rename) {
          // A generated name collided: try a few fresh suffixes before answering AlreadyExists.
          for (let i = 0; i < 5; i++) {
            meta.name = meta.generateName + randomSuffix();
            try {
              const rev = await this.#backend.create(this.key(namespace, meta.name), this.#encode(obj));
              meta.resourceVersion = String(rev);
              return obj;
            } catch (e) {
              if (!(e instanceof KeyExistsError)) throw mapStorageError(e, this.qualifiedResource, meta.name);
            }
          }
        }
        throw alreadyExists(this.qualifiedResource, name);
      }
      throw mapStorageError(err, this.qualifiedResource, name);
    }
  }

  /**
   * Replaces an object (PUT). When obj.metadata.resourceVersion is set it must match (409 otherwise);
   * when empty the update is unconditional, as the apiserver allows for pods.
   */
  async update(namespace: string | undefined, name: string, obj: KubeObject, opts: WriteOptions & { subresource?: string } = {}): Promise<KubeObject> {
    const meta = (obj.metadata ??= {});
    if (meta.name && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    meta.name = name;
    if (this.info.namespaced) meta.namespace = namespace;
    const wantRv = meta.resourceVersion ? parseResourceVersion(meta.resourceVersion) : 0;
    return this.guaranteedUpdate(namespace, name, (old) => {
      if (wantRv && String(wantRv) !== old.metadata!.resourceVersion) throw conflict(this.qualifiedResource, name);
      const next = structuredClone(obj);
      next.metadata!.resourceVersion = old.metadata!.resourceVersion;
      return next;
    }, { ...opts, retryConflicts: !wantRv });
  }

  /**
   * Read-modify-write with retries on revision conflicts (for PATCH, status writers and internal
   * updates). `mutate` gets a fresh copy of the stored object and returns the desired object.
   */
  async guaranteedUpdate(
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions & { subresource?: string; retryConflicts?: boolean } = {},
  ): Promise<KubeObject> {
    const key = this.key(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.#backend.get(key);
      if (!kv) throw notFound(this.qualifiedResource, name);
      // `old` is the shared decode watchers also get (usually already made by the key's last
      // event, and reused by this write's event as its previous state): read-only. Strategies move
      // its parts into `next` rather than copying them, and nothing writes to those parts after.
      // The mutator gets its own decode (cheaper than structuredClone).
      const old = this.#decodeRecent(kv, true);
      const next = await mutate(this.#decode(kv));
      const meta = (next.metadata ??= {});
      meta.name = name;
      if (this.info.namespaced) meta.namespace = namespace;
      this.strategy.defaults(next);
      this.#keepServerMeta(meta, old.metadata!);
      if (opts.admission?.mutate) await opts.admission.mutate(next, old);
      if (opts.subresource) {
        const sub = opts.subresource === 'status' ? this.strategy.status : this.strategy.subresources?.[opts.subresource];
        if (!sub) throw notFound(this.qualifiedResource, name);
        sub.prepareForUpdate(next, old);
        this.#setTypeMeta(next);
        opts.track?.(next, old);
        this.#check(next, sub.validateUpdate(next, old));
      } else {
        this.strategy.prepareForUpdate(next, old);
        this.#setTypeMeta(next);
        opts.track?.(next, old);
        this.#check(next, this.strategy.validateUpdate(next, old));
      }
      this.#check(next, validateObjectMetaUpdate(next.metadata, old.metadata, { kubeFinalizers: false })); // rest.BeforeUpdate
      if (sameObject(next, old)) return this.#decode(kv); // no-op writes keep the resourceVersion, as in Kubernetes
      if (opts.admission?.validate) await opts.admission.validate(next, old);
      const txn = opts.subresource || !this.#hooks?.beginUpdate ? undefined : await this.#hooks.beginUpdate(next, old, opts.dryRun === true);
      let written: { obj: KubeObject; retry: boolean; deleted: boolean };
      try {
        written = await this.#writeUpdate(key, kv, next, old, meta, opts, attempt);
      } catch (err) {
        if (txn) await txn.revert();
        throw err;
      }
      if (txn) await (written.retry || opts.dryRun ? txn.revert() : txn.commit());
      if (written.retry) continue;
      if (written.deleted && !opts.dryRun) await this.#afterDelete(written.obj);
      return written.obj;
    }
  }

  /** The storage write of one guaranteedUpdate attempt; `retry` when the revision moved and the attempt should run again. */
  async #writeUpdate(
    key: string,
    kv: KeyValue,
    next: KubeObject,
    old: KubeObject,
    meta: ObjectMeta,
    opts: WriteOptions & { subresource?: string; retryConflicts?: boolean },
    attempt: number,
  ): Promise<{ obj: KubeObject; retry: boolean; deleted: boolean }> {
    const name = meta.name!;
    // A scale write changes the desired state as much as a spec update does.
    if ((!opts.subresource || opts.subresource === 'scale') && specChanged(next, old)) meta.generation = (old.metadata!.generation ?? 1) + 1;
    // An object being deleted whose last finalizer is removed goes away now.
    // (Only for deletions held by finalizers, whose grace period is 0: a gracefully terminating pod is
    // removed by its node's DELETE, not by an update.)
    if (meta.deletionTimestamp && meta.deletionGracePeriodSeconds === 0 && (meta.finalizers?.length ?? 0) === 0 && !(this.#deletion?.holds?.(next) ?? false)) {
      if (opts.dryRun) return { obj: next, retry: false, deleted: true };
      try {
        const gone = await this.#backend.delete(key, kv.modRevision);
        return { obj: this.#decode(gone), retry: false, deleted: true };
      } catch (err) {
        if (err instanceof RevisionMismatchError && attempt < maxRetries) return { obj: next, retry: true, deleted: false };
        throw mapStorageError(err, this.qualifiedResource, name);
      }
    }
    if (opts.dryRun) return { obj: next, retry: false, deleted: false };
    try {
      const res = await this.#backend.update(key, this.#encode(next), kv.modRevision);
      meta.resourceVersion = String(res.modRevision);
      return { obj: next, retry: false, deleted: false };
    } catch (err) {
      if (err instanceof RevisionMismatchError && opts.retryConflicts !== false && attempt < maxRetries) return { obj: next, retry: true, deleted: false };
      if (err instanceof RevisionMismatchError) throw conflict(this.qualifiedResource, name);
      throw mapStorageError(err, this.qualifiedResource, name);
    }
  }

  async #afterDelete(obj: KubeObject): Promise<void> {
    if (!this.#hooks?.afterDelete) return;
    try {
      await this.#hooks.afterDelete(obj);
    } catch (err) {
      console.error(`tinykube: after deleting ${this.qualifiedResource} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Deletes by Kubernetes rules: preconditions, finalizers, graceful deletion. */
  async delete(namespace: string | undefined, name: string, p: DeleteParams = {}): Promise<DeleteOutput> {
    const key = this.key(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.#backend.get(key);
      if (!kv) throw notFound(this.qualifiedResource, name);
      const obj = this.#decode(kv);
      const meta = obj.metadata!;
      if (p.preconditions?.uid && p.preconditions.uid !== meta.uid) {
        throw conflict(this.qualifiedResource, name, `Precondition failed: UID in precondition: ${p.preconditions.uid}, UID in object meta: ${meta.uid}`);
      }
      if (p.preconditions?.resourceVersion && p.preconditions.resourceVersion !== meta.resourceVersion) {
        throw conflict(this.qualifiedResource, name, `Precondition failed: ResourceVersion in precondition: ${p.preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
      }
      // Cascading deletion: Orphan and Foreground become finalizers the garbage collector removes
      // once the dependents are orphaned or gone (the apiserver's deletionFinalizersForGarbageCollection).
      const gcFinalizersChanged = applyPropagationFinalizers(meta, p.propagationPolicy);
      const grace = this.#deletion ? this.#deletion.gracePeriod(obj, p.gracePeriodSeconds) : 0;
      const hasFinalizers = (meta.finalizers?.length ?? 0) > 0 || (this.#deletion?.holds?.(obj) ?? false);
      if (grace > 0 || hasFinalizers) {
        // Graceful: mark the object and let its owner (node agent, finalizer holder) finish. A second
        // delete may only bring the deadline forward (or change the propagation finalizers).
        const now = this.#clock.now();
        const deadline = now + grace * 1000;
        const existing = meta.deletionTimestamp ? Date.parse(meta.deletionTimestamp) : undefined;
        if (existing !== undefined && deadline >= existing) {
          if (!gcFinalizersChanged) return { object: obj, deleted: false };
        } else {
          meta.deletionTimestamp = rfc3339(deadline);
          meta.deletionGracePeriodSeconds = grace;
          this.#deletion?.onDeleting?.(obj);
        }
        if (p.dryRun) return { object: obj, deleted: false };
        try {
          const res = await this.#backend.update(key, this.#encode(obj), kv.modRevision);
          meta.resourceVersion = String(res.modRevision);
          return { object: obj, deleted: false };
        } catch (err) {
          if (err instanceof RevisionMismatchError && attempt < maxRetries) continue;
          throw mapStorageError(err, this.qualifiedResource, name);
        }
      }
      if (p.dryRun) return { object: obj, deleted: true };
      try {
        const gone = await this.#backend.delete(key, kv.modRevision);
        const out = this.#decode(gone);
        await this.#afterDelete(out);
        return { object: out, deleted: true };
      } catch (err) {
        if (err instanceof RevisionMismatchError && attempt < maxRetries) continue;
        throw mapStorageError(err, this.qualifiedResource, name);
      }
    }
  }

  #check(obj: KubeObject, errs: FieldError[]): void {
    if (errs.length) throw invalidError(this.info.kind, obj.metadata?.name ?? '', errs, this.info.group || undefined);
  }

  #setTypeMeta(obj: KubeObject): void {
    obj.apiVersion = this.info.group ? `${this.info.group}/${this.info.version}` : this.info.version;
    obj.kind = this.info.kind;
  }

  #resetServerMeta(meta: ObjectMeta): void {
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.#clock.now());
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete (meta as Record<string, unknown>).selfLink;
  }

  #keepServerMeta(meta: ObjectMeta, old: ObjectMeta): void {
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
    meta.generation = old.generation;
    if (old.generateName !== undefined) meta.generateName = old.generateName;
    // deletionTimestamp can only be set by delete; once set it stays.
    if (old.deletionTimestamp) {
      meta.deletionTimestamp = old.deletionTimestamp;
      meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    delete (meta as Record<string, unknown>).selfLink;
  }

  /**
   * Stored text always begins with apiVersion, kind and metadata, in that order (#storedHead), so a
   * list can splice resourceVersion into it without decoding (#listItemJSON). metadata.resourceVersion
   * is never stored: it is the key's modRevision.
   */
  #encode(served: KubeObject): string {
    const obj = this.kind.storage ? this.kind.storage.toStorage(served) : served;
    const meta = obj.metadata!;
    const rv = meta.resourceVersion;
    delete meta.resourceVersion;
    // Spreading obj after the three keys keeps their positions first and their values from obj.
    const s = JSON.stringify(this.#storageApiVersion ? { ...obj, apiVersion: this.#storageApiVersion, kind: obj.kind, metadata: meta } : { apiVersion: obj.apiVersion, kind: obj.kind, metadata: meta, ...obj });
    if (rv !== undefined) meta.resourceVersion = rv;
    return s;
  }

  /** `{"apiVersion":"v1","kind":"Pod","metadata":{`: how every object #encode writes begins. */
  get #storedHead(): string {
    return (this.#head ??= `{"apiVersion":${JSON.stringify(this.info.group ? `${this.info.group}/${this.info.version}` : this.info.version)},"kind":${JSON.stringify(this.info.kind)},"metadata":{`);
  }
  #head: string | undefined;

  /**
   * A stored object as a list item: without apiVersion and kind, with metadata.resourceVersion. When
   * the text begins with #storedHead and holds no "resourceVersion" key anywhere (so the spliced key
   * is the only one; inside JSON strings a quote is always escaped, so the search cannot match string
   * content), the result is spliced from the stored text; otherwise (objects written before #encode
   * fixed the key order, or kinds that carry resourceVersion keys elsewhere, as events do in
   * involvedObject) it is decoded and encoded again.
   */
  #listItemJSON(kv: KeyValue): string {
    const v = kv.value;
    const head = this.#storedHead;
    if (v.startsWith(head) && !v.includes('"resourceVersion":')) {
      const sep = v.charCodeAt(head.length) === 0x7d /* } */ ? '' : ',';
      return `{"metadata":{"resourceVersion":"${kv.modRevision}"${sep}${v.slice(head.length)}`;
    }
    return listItemOf(this.#decode(kv));
  }

  #decode(kv: KeyValue): KubeObject {
    const stored = JSON.parse(kv.value) as KubeObject;
    const obj = this.kind.storage ? this.kind.storage.fromStorage(stored) : stored;
    (obj.metadata ??= {}).resourceVersion = String(kv.modRevision);
    // A kind served in several versions reads the stored version as its own (conversion None).
    if (this.#storageApiVersion) obj.apiVersion = this.#apiVersion;
    this.kind.normalize?.(obj);
    return obj;
  }
}

/** An object as a list's item: Kubernetes lists carry no apiVersion and kind per item. */
function listItemOf(obj: KubeObject): string {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(rest);
}

/**
 * An explicit propagationPolicy sets the garbage collector's finalizer for it (`orphan`,
 * `foregroundDeletion`) and drops the other one; Background drops both; no policy keeps what the object
 * has. Returns whether metadata.finalizers changed.
 */
function applyPropagationFinalizers(meta: ObjectMeta, policy: string | undefined): boolean {
  if (policy !== 'Orphan' && policy !== 'Foreground' && policy !== 'Background') return false;
  const before = meta.finalizers ?? [];
  const next = before.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
  if (policy === 'Orphan') next.push('orphan');
  if (policy === 'Foreground') next.push('foregroundDeletion');
  if (next.length === before.length && next.every((f) => before.includes(f))) return false;
  if (next.length) meta.finalizers = next;
  else delete meta.finalizers;
  return true;
}

export function mapStorageError(err: unknown, resource: string, name: string): unknown {
  if (err instanceof StatusError) return err;
  if (err instanceof KeyNotFoundError) return notFound(resource, name);
  if (err instanceof KeyExistsError) return alreadyExists(resource, name);
  if (err instanceof RevisionMismatchError) return conflict(resource, name);
  if (err instanceof CompactedError) return expired(`The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.`);
  if (err instanceof FutureRevisionError) return timeout(`Too large resource version: ${err.requested}, current: ${err.current}`);
  // kube-apiserver passes etcd's refusal on as an error of no known kind: 500, no reason, etcd's
  // message ("Error from server: etcdserver: request is too large" in kubectl).
  if (err instanceof RequestTooLargeError) return new StatusError(500, '', err.message);
  return err;
}

export function parseResourceVersion(rv: string): number {
  if (!/^\d{1,15}$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

/** `n`: keys after lastKey at rv (the list is read at rv to its end, so it only goes down). */
function encodeContinue(rv: number, lastKey: string, n: number | undefined): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: lastKey, ...(n !== undefined ? { n } : {}) })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): { rv: number; start: string; n?: number } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; rv?: unknown; start?: unknown; n?: unknown };
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || !t.start.startsWith(prefix) || t.rv < 1) throw new Error('bad');
    // A token without a usable count (older tokens, hand-made ones) makes the backend count again.
    const n = typeof t.n === 'number' && Number.isSafeInteger(t.n) && t.n >= 0 ? t.n : undefined;
    return { rv: t.rv, start: t.start, ...(n !== undefined ? { n } : {}) };
  } catch {
    throw badRequest(`invalid continue token: continue key is not valid`);
  }
}

const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(): string {
  let s = '';
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  for (const b of bytes) s += suffixAlphabet[b % suffixAlphabet.length];
  return s;
}

/**
 * Metadata a no-op write may differ in: resourceVersion is the storage revision. (managedFields are
 * compared: the field manager leaves them as they were when nothing changed owner, and a write that
 * changes only them, as kubectl's move of client-side-apply ownership to server-side apply does, must
 * be stored.)
 */
const volatileMeta: ReadonlySet<string> = new Set(['resourceVersion']);
/** Top-level keys the generation ignores. */
const notSpec: ReadonlySet<string> = new Set(['metadata', 'status', 'apiVersion', 'kind']);
const metadataKey: ReadonlySet<string> = new Set(['metadata']);

function sameObject(a: KubeObject, b: KubeObject): boolean {
  return jsonObjectEqual(a as Record<string, unknown>, b as Record<string, unknown>, metadataKey) &&
    jsonObjectEqual((a.metadata ?? {}) as Record<string, unknown>, (b.metadata ?? {}) as Record<string, unknown>, volatileMeta);
}

function specChanged(a: KubeObject, b: KubeObject): boolean {
  return !jsonObjectEqual(a as Record<string, unknown>, b as Record<string, unknown>, notSpec);
}
