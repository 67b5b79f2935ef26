// Controller references and claiming (kube-controller-manager's ControllerRefManager): a controller
// owns the objects whose ownerReferences name it with `controller: true`; it adopts orphans its
// selector matches and releases objects it owns that its selector no longer matches. Objects owned
// by another controller are never touched.
//
// Adoption and release are PATCHes of metadata.ownerReferences with the object's UID as a
// precondition, so a stale cache never adopts a replaced object. Before adopting, `canAdopt` lets the
// caller re-read its own object uncached: an owner being deleted must not adopt (it would keep pods
// alive that the garbage collector is about to orphan or delete).
//
// Called from a controller's sync; the writes run in parallel per sync, never twice for one object.

import type { OwnerReference } from '../../api/types.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isNotFound, isConflict } from '../../client/errors.ts';
import type { ResourceRef } from '../../client/resources.ts';

export interface OwnerIdentity {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** The owner reference a controller puts on what it makes (blockOwnerDeletion for foreground deletion). */
export function controllerRef(owner: OwnerIdentity): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
}

/** The controlling owner reference of an object, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r?.controller === true);
}

export interface ClaimArgs<T extends KubeObject> {
  client: ApiClient;
  /** Where the claimed objects live (pods, replicasets, controllerrevisions). */
  ref: ResourceRef;
  owner: OwnerIdentity & { deleting: boolean };
  /** Whether the owner's selector matches the object's labels. */
  matches(obj: T): boolean;
  candidates: readonly T[];
  /** Re-reads the owner uncached; false stops adoption (kube's RecheckDeletionTimestamp). */
  canAdopt(): Promise<boolean>;
}

/**
 * The objects the owner controls after adopting and releasing. Objects whose adoption or release
 * failed because they changed or went away are left out (the next sync sees them fresh); other
 * failures throw, so the sync is retried.
 */
export async function claim<T extends KubeObject>(a: ClaimArgs<T>): Promise<T[]> {
  const owned: T[] = [];
  const adopt: T[] = [];
  const release: T[] = [];
  for (const obj of a.candidates) {
    const ctl = controllerOf(obj);
    if (ctl) {
      if (ctl.uid !== a.owner.uid) continue;
      if (a.matches(obj)) owned.push(obj);
      // An owner being deleted keeps what it has: the garbage collector decides their fate.
      else if (!obj.metadata?.deletionTimestamp && !a.owner.deleting) release.push(obj);
      else owned.push(obj);
      continue;
    }
    if (a.owner.deleting || obj.metadata?.deletionTimestamp || !a.matches(obj)) continue;
    adopt.push(obj);
  }
  const adoptable = adopt.length > 0 && (await a.canAdopt());
  const ns = (o: T) => o.metadata?.namespace;
  const name = (o: T) => o.metadata?.name ?? '';
  const uid = (o: T) => o.metadata?.uid;
  const gone = (err: unknown) => isNotFound(err) || isConflict(err);
  await Promise.all([
    ...(adoptable ? adopt : []).map(async (obj) => {
      const patch = { metadata: { uid: uid(obj), ownerReferences: [controllerRef(a.owner)] } };
      try {
        owned.push(await a.client.patch<T>(a.ref, ns(obj), name(obj), 'strategic', patch));
      } catch (err) {
        if (!gone(err)) throw err;
      }
    }),
    ...release.map(async (obj) => {
      const patch = { metadata: { uid: uid(obj), ownerReferences: [{ $patch: 'delete', uid: a.owner.uid }] } };
      try {
        await a.client.patch<T>(a.ref, ns(obj), name(obj), 'strategic', patch);
      } catch (err) {
        if (!gone(err)) throw err;
      }
    }),
  ]);
  return owned;
}
