// In-process fan-out of committed events to watchers (kine's broadcaster, without a goroutine per
// watcher: Node is single-threaded, so delivery is a synchronous call in commit order).
//
// Called by SqliteBackend only: `publish` right after each commit, `add`/`remove` from watch().
// A watcher is either catching up (the backend replays the log to it and skips it here) or live
// (it gets every published event newer than the last one it saw, so the hand-over from replay to
// live can neither skip nor repeat a revision).

import type { WatchCallbacks, WatchEvent, Watcher } from '../backend.ts';

export class HubWatcher implements Watcher {
  readonly prefix: string;
  /** Revision of the last event delivered (or skipped as not matching) to this watcher. */
  lastRevision: number;
  /** False while the backend is replaying history to this watcher. */
  live = false;
  closed = false;
  readonly #cb: WatchCallbacks;
  readonly #onClose: (w: HubWatcher) => void;

  constructor(prefix: string, lastRevision: number, cb: WatchCallbacks, onClose: (w: HubWatcher) => void) {
    this.prefix = prefix;
    this.lastRevision = lastRevision;
    this.#cb = cb;
    this.#onClose = onClose;
  }

  /** Delivers one event; a throwing callback ends this watcher (with its error) and nothing else. */
  deliver(ev: WatchEvent): void {
    if (this.closed) return;
    this.lastRevision = ev.kv.modRevision;
    try {
      this.#cb.onEvent(ev);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Ends the watch with an error: onError is called at most once, and only if not closed by the caller. */
  fail(err: Error): void {
    if (this.closed) return;
    this.close();
    try {
      this.#cb.onError(err);
    } catch {
      // The watcher is already gone; an error thrown by its error handler has nowhere to go.
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#onClose(this);
  }
}

export class WatchHub {
  // Grouped by prefix: there are few distinct prefixes (one per resource, per namespace), so each
  // event costs one startsWith per prefix rather than one per watcher.
  readonly #byPrefix = new Map<string, Set<HubWatcher>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  create(prefix: string, lastRevision: number, cb: WatchCallbacks): HubWatcher {
    const w = new HubWatcher(prefix, lastRevision, cb, (x) => this.#remove(x));
    let set = this.#byPrefix.get(prefix);
    if (!set) this.#byPrefix.set(prefix, (set = new Set()));
    set.add(w);
    this.#size++;
    return w;
  }

  #remove(w: HubWatcher): void {
    const set = this.#byPrefix.get(w.prefix);
    if (!set?.delete(w)) return;
    this.#size--;
    if (set.size === 0) this.#byPrefix.delete(w.prefix);
  }

  /** Delivers committed events (in revision order) to the live watchers whose prefix matches. */
  publish(events: readonly WatchEvent[]): void {
    if (this.#size === 0) return;
    for (const ev of events) {
      // Snapshot: callbacks may open or close watchers while we iterate.
      for (const [prefix, set] of [...this.#byPrefix]) {
        if (!ev.kv.key.startsWith(prefix)) continue;
        for (const w of [...set]) {
          if (w.live && !w.closed && ev.kv.modRevision > w.lastRevision) w.deliver(ev);
        }
      }
    }
  }

  /** Ends every watcher with `err` (backend closing). */
  failAll(err: Error): void {
    for (const set of [...this.#byPrefix.values()]) for (const w of [...set]) w.fail(err);
  }
}
