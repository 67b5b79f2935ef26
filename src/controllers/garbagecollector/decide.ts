// The garbage collector's decisions, as Kubernetes' garbage collector makes them (attemptToDeleteItem,
// processDeletingDependentsItem, orphanDependents). Pure: the caller classifies owners and acts.
//
// A dependent's owner references are each one of:
//  - solid: the owner exists (same UID) and is not being deleted in the foreground;
//  - dangling: the owner is gone, or an object of that name has another UID;
//  - waiting: the owner is being deleted in the foreground (deletionTimestamp + foregroundDeletion).

import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from './graph.ts';

export type OwnerState = 'solid' | 'dangling' | 'waiting';
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface ClassifiedOwner {
  uid: string;
  state: OwnerState;
}

export type DependentAction =
  | { type: 'none' }
  /** Some owner still holds it: drop only the references to owners that are gone or going. */
  | { type: 'removeOwnerRefs'; uids: string[] }
  | { type: 'delete'; policy: PropagationPolicy };

/**
 * What to do with an object that has owner references (and is not itself being deleted).
 * `hasDependents`: whether anything lists this object as its owner, so a foreground deletion must
 * propagate through it.
 */
export function decideDependent(finalizers: readonly string[], owners: readonly ClassifiedOwner[], hasDependents: boolean): DependentAction {
  if (owners.length === 0) return { type: 'none' };
  const solid = owners.filter((o) => o.state === 'solid');
  const gone = owners.filter((o) => o.state !== 'solid').map((o) => o.uid);
  if (solid.length > 0) return gone.length ? { type: 'removeOwnerRefs', uids: gone } : { type: 'none' };
  if (hasDependents && owners.some((o) => o.state === 'waiting')) return { type: 'delete', policy: 'Foreground' };
  // No owner left: collect it, propagating the way its own finalizers ask (a user may have asked to
  // orphan its dependents earlier).
  if (finalizers.includes(FINALIZER_ORPHAN)) return { type: 'delete', policy: 'Orphan' };
  if (finalizers.includes(FINALIZER_FOREGROUND)) return { type: 'delete', policy: 'Foreground' };
  return { type: 'delete', policy: 'Background' };
}

export interface DependentView {
  uid: string;
  /** Its reference to the owner has blockOwnerDeletion. */
  blocking: boolean;
  deleting: boolean;
}

export type OwnerAction =
  | { type: 'none' }
  /** Remove the references to the owner from these dependents, then the owner's orphan finalizer. */
  | { type: 'orphan'; dependents: string[] }
  | { type: 'removeFinalizer'; finalizer: string }
  /** Foreground: these dependents must be deleted before the owner may go. */
  | { type: 'deleteDependents'; dependents: string[] };

/** What to do for an owner that is being deleted with one of the collector's finalizers. */
export function decideDeletingOwner(finalizers: readonly string[], dependents: readonly DependentView[]): OwnerAction {
  if (finalizers.includes(FINALIZER_ORPHAN)) {
    return dependents.length ? { type: 'orphan', dependents: dependents.map((d) => d.uid) } : { type: 'removeFinalizer', finalizer: FINALIZER_ORPHAN };
  }
  if (finalizers.includes(FINALIZER_FOREGROUND)) {
    const blocking = dependents.filter((d) => d.blocking);
    if (blocking.length === 0) return { type: 'removeFinalizer', finalizer: FINALIZER_FOREGROUND };
    const todo = blocking.filter((d) => !d.deleting).map((d) => d.uid);
    // Blocking dependents already on their way out: wait for their deletion events.
    return todo.length ? { type: 'deleteDependents', dependents: todo } : { type: 'none' };
  }
  return { type: 'none' };
}
