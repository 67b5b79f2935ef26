// An informer stand-in for the proxier's unit tests, its namespace test and its benchmark: events are
// pushed by hand (add/update/delete) and the first list counts as done at once.
import type { EventHandler } from '../../client/informer.ts';
import type { InformerSource } from '../proxier.ts';

export class PushSource<T> implements InformerSource<T> {
  readonly handlers = new Set<EventHandler<T>>();
  addEventHandler(h: EventHandler<T>): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
  waitForSync(): Promise<void> {
    return Promise.resolve();
  }
  add(o: T): void {
    for (const h of this.handlers) h.onAdd?.(o);
  }
  update(old: T, o: T): void {
    for (const h of this.handlers) h.onUpdate?.(old, o);
  }
  delete(o: T): void {
    for (const h of this.handlers) h.onDelete?.(o);
  }
}
