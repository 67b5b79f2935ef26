// The ClusterRole aggregation controller (kube-controller-manager's "clusterrole-aggregation"): a
// ClusterRole with an aggregationRule gets as its rules the union of the rules of every other
// ClusterRole one of its selectors matches, in selector order and by name within a selector, each
// rule once. Every ClusterRole change re-checks every aggregating role, as kube's controller does.

import { semanticDeepEqual } from '../../api/equality.ts';
import { fromLabelSelector } from '../../api/labels.ts';
import type { ClusterRole, PolicyRule } from '../../api/rbac/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { ClusterRoles } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';

type Role = ClusterRole & { metadata: NonNullable<ClusterRole['metadata']> };

export interface ClusterRoleAggregationOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

/** The aggregated rules of `role` among `all` (syncClusterRole's union). */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const sel of role.aggregationRule?.clusterRoleSelectors ?? []) {
    const selector = fromLabelSelector(sel);
    const matched = all.filter((c) => c.metadata?.name !== role.metadata?.name && selector.matches(c.metadata?.labels ?? {}));
    matched.sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
    for (const c of matched) for (const r of c.rules ?? []) if (!rules.some((x) => semanticDeepEqual(x, r))) rules.push(r);
  }
  return rules;
}

export class ClusterRoleAggregationController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #loop: KeyLoop;

  constructor(o: ClusterRoleAggregationOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#loop = new KeyLoop({ clock: o.clock, onError: o.onError ?? ((err) => console.error(`tinykube: clusterrole-aggregation controller: ${(err as Error).message}`)) });
  }

  #roles() {
    return this.#informers.resource<Role>(ClusterRoles);
  }

  start(): void {
    const q = this.#loop.queue;
    const enqueueAll = () => {
      for (const r of this.#roles().store.values()) if (r.aggregationRule) q.add(r.metadata.name!);
    };
    this.#loop.start(this.#informers, () => [this.#roles().addEventHandler({ onAdd: enqueueAll, onUpdate: enqueueAll, onDelete: enqueueAll })], (name) => this.sync(name));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(name: string): Promise<void> {
    const role = this.#roles().store.get(undefined, name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.#roles().store.list());
    if (semanticDeepEqual(rules, role.rules ?? [])) return;
    // An update at the cached resourceVersion: a conflict means the cache was behind, and the key is retried.
    await this.#client.update<Role>(ClusterRoles, undefined, { ...structuredClone(role), rules });
  }
}
