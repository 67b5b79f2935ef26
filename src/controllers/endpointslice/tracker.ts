// EndpointSliceTracker (Kubernetes' staging/src/k8s.io/endpointslice/endpointslice_tracker.go): the
// generation of every slice this controller wrote, per Service, so that a sync working from a cache
// that has not yet seen its own writes stops (and retries) instead of creating duplicates, and so the
// controller's own writes coming back through the informer do not queue the Service again.
//
// Used by one controller from its informer handlers and its workers (single-threaded JS: no locks).

import type { EndpointSlice } from '../../api/types.ts';
import { LABEL_SERVICE_NAME } from '../../api/network.ts';

/** Marks a slice this controller deleted and expects to see go. */
const DELETION_EXPECTED = -1;

function serviceKey(slice: EndpointSlice): string | undefined {
  const name = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  return name ? `${slice.metadata?.namespace ?? ''}/${name}` : undefined;
}

export class EndpointSliceTracker {
  /** Service key → slice uid → generation (or DELETION_EXPECTED). */
  readonly #byService = new Map<string, Map<string, number>>();

  #gens(slice: EndpointSlice, create: boolean): Map<string, number> | undefined {
    const key = serviceKey(slice);
    if (!key) return undefined;
    let m = this.#byService.get(key);
    if (!m && create) this.#byService.set(key, (m = new Map()));
    return m;
  }

  has(slice: EndpointSlice): boolean {
    return this.#gens(slice, false)?.has(slice.metadata?.uid ?? '') ?? false;
  }

  /** Whether an informer event is news to us: a slice we do not know, or a generation newer than ours. */
  shouldSync(slice: EndpointSlice): boolean {
    const g = this.#gens(slice, false)?.get(slice.metadata?.uid ?? '');
    return g === undefined || (slice.metadata?.generation ?? 0) > g;
  }

  /**
   * Whether the cached slices are behind what we wrote: one we wrote has an older generation there,
   * one we deleted is still there, or one we wrote is missing.
   */
  staleSlices(serviceKey: string, slices: readonly EndpointSlice[]): boolean {
    const gens = this.#byService.get(serviceKey);
    if (!gens) return false;
    const seen = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata?.uid ?? '';
      seen.add(uid);
      const g = gens.get(uid);
      if (g !== undefined && (g === DELETION_EXPECTED || g > (s.metadata?.generation ?? 0))) return true;
    }
    for (const [uid, g] of gens) if (g !== DELETION_EXPECTED && !seen.has(uid)) return true;
    return false;
  }

  /** A slice we created or updated (the server's answer). */
  update(slice: EndpointSlice): void {
    this.#gens(slice, true)?.set(slice.metadata?.uid ?? '', slice.metadata?.generation ?? 0);
  }

  expectDeletion(slice: EndpointSlice): void {
    this.#gens(slice, true)?.set(slice.metadata?.uid ?? '', DELETION_EXPECTED);
  }

  /** A deletion seen by the informer; true when it was not ours (the Service must be synced). */
  handleDeletion(slice: EndpointSlice): boolean {
    const gens = this.#gens(slice, false);
    const uid = slice.metadata?.uid ?? '';
    const g = gens?.get(uid);
    if (gens && g !== undefined) {
      gens.delete(uid);
      if (gens.size === 0) this.#byService.delete(serviceKey(slice)!);
    }
    return g !== DELETION_EXPECTED;
  }

  deleteService(key: string): void {
    this.#byService.delete(key);
  }
}
