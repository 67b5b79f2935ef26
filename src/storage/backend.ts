// The storage seam. Only the API server (src/registry, src/apiserver, src/cmd) imports this.
//
// The model is etcd's: a flat key space ("/registry/pods/<ns>/<name>"), one global revision that
// increases by one with every write, and for each key the revision of its last write (modRevision,
// which the registry exposes as metadata.resourceVersion) and of its creation (createRevision).
//
// Callers: the generic registry store, concurrently. Every method may be called concurrently with
// any other; implementations serialise writes themselves. No method is idempotent unless noted:
// create of an existing key fails, update/delete compare revisions.

export interface KeyValue {
  key: string;
  /** The stored bytes, as UTF-8 text (the registry stores JSON). */
  value: string;
  /** Revision of the write that created this key (for this incarnation of the key). */
  createRevision: number;
  /** Revision of the last write to this key. */
  modRevision: number;
}

export interface ListOptions {
  /** Read as of this revision; 0 or undefined means the current revision. Older than the compacted revision → CompactedError. */
  revision?: number;
  /** At most this many items; 0 or undefined means no limit. */
  limit?: number;
  /** Start strictly after this key (the last key of the previous page). Must be under the prefix. */
  startAfter?: string;
  /**
   * The caller knows how many keys remain (a paginated list carries the count from page to page):
   * the backend may leave ListResult.remaining unset instead of counting the rest of the range.
   */
  skipRemaining?: boolean;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at (pass it back as `revision` for consistent further pages). */
  revision: number;
  /** True when keys remain after the last returned item (at that revision). */
  more: boolean;
  /** How many keys remain after this page (at that revision); only set when `more`. */
  remaining?: number;
}

export type WatchEventType = 'put' | 'delete';

export interface WatchEvent {
  type: WatchEventType;
  /** For put: the new value. For delete: key, the revision of the deletion as modRevision, and the last value. */
  kv: KeyValue;
  /** The value before this event, when there was one (always set for delete). */
  prevKv?: KeyValue;
  /** True when this put created the key. */
  created: boolean;
}

export interface Watcher {
  /** Stops delivering events. Idempotent. */
  close(): void;
}

export interface WatchCallbacks {
  /** Called in revision order, never concurrently for one watcher. */
  onEvent(ev: WatchEvent): void;
  /** Called at most once when the watch can no longer continue (e.g. CompactedError while catching up, backend closed). */
  onError(err: Error): void;
}

export interface Backend {
  /** Name of the registered driver ("sqlite", "etcd"). */
  readonly name: string;

  /** Creates key; KeyExistsError if it exists. Returns the new revision. */
  create(key: string, value: string): Promise<number>;

  /** Reads key at the current revision (or at `revision`); null when absent. */
  get(key: string, revision?: number): Promise<KeyValue | null>;

  /**
   * Replaces key's value if its modRevision equals expectedRevision.
   * KeyNotFoundError if absent; RevisionMismatchError (carrying the current KeyValue) otherwise.
   */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;

  /**
   * Deletes key; when expectedRevision is given, only if it matches (RevisionMismatchError otherwise).
   * KeyNotFoundError if absent. Returns the deleted KeyValue (with modRevision = the deletion's revision).
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;

  /** Lists keys with the prefix, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;

  /** Counts keys with the prefix at the current revision. */
  count(prefix: string): Promise<number>;

  /**
   * Watches keys with the prefix for events with revision > fromRevision (fromRevision 0 = from now).
   * If fromRevision < compacted revision, onError(CompactedError) is called (asynchronously).
   */
  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher;

  /** The current (latest) revision. */
  currentRevision(): Promise<number>;

  /** The oldest revision that can still be read or watched from. */
  compactedRevision(): Promise<number>;

  /** Forgets history older than `revision` (live keys are kept). */
  compact(revision: number): Promise<void>;

  /** Closes the backend; open watches get onError. Idempotent. */
  close(): Promise<void>;
}
