// Controller history (kube-controller-manager's pkg/controller/history): the ControllerRevisions a
// DaemonSet or StatefulSet keeps of its templates. A revision is named `<owner>-<hash>`, labelled with
// its hash (`controller-revision-hash`) and the owner's template labels (so the owner's selector and
// kubectl's `rollout history` find it), owned through a controller reference, and numbered: the
// current template has the highest number, an older template rolled back to gets a new, higher one.
//
// The pure helpers are called from a controller's sync; RevisionWriter does the writes (one sync at a
// time per owner, so the collision loop never races itself; another writer shows up as AlreadyExists
// or Conflict, handled below or retried by the caller's queue).

import type { ControllerRevision } from '../../api/types.ts';
import type { LabelSelectorValue } from '../../api/labels.ts';
import type { ApiClient } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.ts';
import { ControllerRevisions } from '../../client/resources.ts';
import { controllerOf, controllerRef, type OwnerIdentity } from '../podcontrol/controllerref.ts';
import { canonicalJSON, computeHash } from '../podcontrol/hash.ts';

/** apps/v1 ControllerRevisionHashLabelKey (also DefaultDaemonSetUniqueLabelKey). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** ControllerRevisionName: the prefix is cut to 223 characters so the name stays a valid subdomain. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** HashControllerRevision: the hash of a revision's data and the owner's collision count. */
export function hashRevision(data: unknown, collisionCount?: number): string {
  return computeHash(data ?? null, collisionCount);
}

export interface RevisionOwner extends OwnerIdentity {
  namespace: string;
}

/**
 * NewControllerRevision: a revision of `data` for `owner`, labelled with the template's labels and
 * the hash, named after the owner (the name is final only once RevisionWriter.create settles
 * collisions).
 */
export function newRevision(owner: RevisionOwner, templateLabels: Record<string, string> | undefined, data: unknown, revision: number, collisionCount?: number): ControllerRevision {
  const hash = hashRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(owner.name, hash),
      namespace: owner.namespace,
      labels: { ...templateLabels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [controllerRef(owner)],
    },
    data: data as ControllerRevision['data'],
    revision,
  };
}

function created(r: ControllerRevision): number {
  const t = r.metadata?.creationTimestamp ? Date.parse(r.metadata.creationTimestamp) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** SortControllerRevisions: by revision number, then creation time, then name (a new array). */
export function sortRevisions(revisions: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revisions].sort(
    (a, b) => (a.revision ?? 0) - (b.revision ?? 0) || created(a) - created(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
}

/** EqualRevision: same data (and the same hash label where both have one). */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  const ha = a.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  const hb = b.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  if (ha && hb && ha !== hb) return false;
  return sameData(a.data, b.data);
}

/** Whether two revisions' data are the same object (key order does not matter). */
export function sameData(a: unknown, b: unknown): boolean {
  return canonicalJSON(a ?? null) === canonicalJSON(b ?? null);
}

/** FindEqualRevisions: the revisions equal to `needle`. */
export function findEqualRevisions(revisions: readonly ControllerRevision[], needle: ControllerRevision): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** The number the next revision gets: one more than the highest (1 when there is none). */
export function nextRevision(revisions: readonly ControllerRevision[]): number {
  let max = 0;
  for (const r of revisions) max = Math.max(max, r.revision ?? 0);
  return max + 1;
}

/**
 * ListControllerRevisions: the revisions in the owner's namespace its selector matches that it
 * controls or nobody controls (the caller claims them: adopts the orphans, releases the rest).
 */
export function candidateRevisions(all: readonly ControllerRevision[], owner: RevisionOwner, selector: LabelSelectorValue): ControllerRevision[] {
  return all.filter((r) => {
    if (r.metadata?.namespace !== owner.namespace) return false;
    if (!selector.matches(r.metadata?.labels ?? {})) return false;
    const ref = controllerOf(r);
    return !ref || ref.uid === owner.uid;
  });
}

/**
 * The StatefulSet controller's truncateHistory: of the revisions (sorted oldest first) not live
 * (current, update, or named by a pod), those beyond `limit` go, oldest first.
 */
export function revisionsToTruncate(sorted: readonly ControllerRevision[], limit: number, isLive: (r: ControllerRevision) => boolean): ControllerRevision[] {
  const history = sorted.filter((r) => !isLive(r));
  return history.length <= limit ? [] : history.slice(0, history.length - limit);
}

/** The writes of controller history (realHistory). */
export class RevisionWriter {
  readonly #client: ApiClient;

  constructor(client: ApiClient) {
    this.#client = client;
  }

  /**
   * CreateControllerRevision: creates `revision` under a name from its owner and hash; when the name
   * is taken by different data, the collision count goes up and the next name is tried. An existing
   * revision with the same data is returned as is. `collisionCount` is the owner's status value; the
   * result says what it became (the caller stores it in the owner's status).
   */
  async create(owner: RevisionOwner, revision: ControllerRevision, collisionCount: number): Promise<{ revision: ControllerRevision; collisionCount: number }> {
    let count = collisionCount;
    for (;;) {
      const hash = hashRevision(revision.data, count);
      const body: ControllerRevision = {
        ...revision,
        metadata: { ...revision.metadata, name: revisionName(owner.name, hash), namespace: owner.namespace, labels: { ...revision.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash } },
      };
      try {
        return { revision: await this.#client.create(ControllerRevisions, owner.namespace, body as ControllerRevision & { metadata: object }), collisionCount: count };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      const exists = await this.#client.get<ControllerRevision>(ControllerRevisions, owner.namespace, body.metadata?.name ?? '');
      if (sameData(exists.data, body.data)) return { revision: exists, collisionCount: count };
      count++;
    }
  }

  /** UpdateControllerRevision: gives `revision` a new number, re-reading it on conflicts. */
  async updateRevision(revision: ControllerRevision, newRevision: number): Promise<ControllerRevision> {
    let current = revision;
    for (let attempt = 0; ; attempt++) {
      if (current.revision === newRevision) return current;
      try {
        return await this.#client.update(ControllerRevisions, current.metadata?.namespace, { ...current, revision: newRevision } as ControllerRevision & { metadata: object });
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
      }
      current = await this.#client.get<ControllerRevision>(ControllerRevisions, revision.metadata?.namespace, revision.metadata?.name ?? '');
    }
  }

  /** DeleteControllerRevision; one already gone is deleted. */
  async delete(revision: ControllerRevision): Promise<void> {
    try {
      await this.#client.delete(ControllerRevisions, revision.metadata?.namespace, revision.metadata?.name ?? '', { preconditions: { uid: revision.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
