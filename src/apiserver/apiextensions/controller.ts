// What apiextensions-apiserver runs inside kube-apiserver for CustomResourceDefinitions, in one loop:
//  - naming: a CRD's names are accepted unless another CRD of its group, or a built-in kind, uses one
//    of them (NamesAccepted); accepted names go to status.acceptedNames;
//  - establishing: a CRD whose names are accepted is Established, and its served versions become kinds
//    of the registry (discovery, OpenAPI and REST follow at once);
//  - finalizing: a deleted CRD's custom resources are deleted (its Terminating condition says how far
//    it got), then its cleanup finalizer is removed, then its kinds stop being served.
//
// It runs in the API server's process and works on the registry's stores directly, as the
// apiextensions controllers are part of the API server. Started once with the server; reconciles are
// serialised per CRD and retried with backoff when they fail.

import type { CustomResourceDefinition, CustomResourceDefinitionCondition, CustomResourceDefinitionNames } from '../../api/apiextensions/index.ts';
import type { KubeObject } from '../../api/types.ts';
import { CRD_CLEANUP_FINALIZER } from '../../registry/apiextensions/customresourcedefinitions/kind.ts';
import { customResourceKinds } from '../../registry/apiextensions/customresources/kind.ts';
import type { Registry } from '../../registry/registry.ts';
import type { Store, StoreWatch } from '../../registry/store.ts';
import { rfc3339, type Clock, type Timer } from '../../util/clock.ts';
import { StatusError } from '../../util/status.ts';

const GROUP = 'apiextensions.k8s.io';

export class CustomResourceDefinitionController {
  readonly #registry: Registry;
  readonly #crds: Store;
  readonly #clock: Clock;
  readonly #onError: (err: unknown) => void;
  /** Names of the built-in kinds ("group/plural", "group/kind"...), which no CRD may take. */
  readonly #builtin = new Set<string>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #retries = new Map<string, { n: number; timer: Timer }>();
  /** The CRDs as last seen, by name. */
  readonly #known = new Map<string, CustomResourceDefinition>();
  /** What each served CRD was served from (its spec and accepted names), to serve it again only on change. */
  readonly #served = new Map<string, string>();
  #watch: StoreWatch | undefined;
  #stopped = false;

  constructor(registry: Registry, opts: { clock?: Clock; onError?: (err: unknown) => void } = {}) {
    this.#registry = registry;
    this.#crds = registry.store('customresourcedefinitions', GROUP);
    this.#clock = opts.clock ?? registry.clock;
    this.#onError = opts.onError ?? ((err) => console.error(`tinykube: apiextensions: ${(err as Error).message}`));
    for (const k of registry.kinds()) for (const n of namesOf(k.info.group, { plural: k.info.resource, singular: k.info.singular, kind: k.info.kind, listKind: k.info.listKind, shortNames: k.info.shortNames })) this.#builtin.add(n);
  }

  /** Serves the established CRDs found in storage, then follows changes. */
  async start(): Promise<void> {
    const list = await this.#crds.list({});
    for (const o of list.items) this.#known.set(o.metadata!.name!, o as unknown as CustomResourceDefinition);
    // Established CRDs are served before the server answers its first request.
    for (const crd of this.#known.values()) if (isEstablished(crd) && !crd.metadata.deletionTimestamp) this.#serve(crd);
    this.#watch = await this.#crds.watch({
      resourceVersion: list.resourceVersion,
      onEvent: (ev) => {
        const name = ev.object.metadata!.name!;
        if (ev.type === 'DELETED') {
          this.#known.delete(name);
          this.#unserve(ev.object as unknown as CustomResourceDefinition);
          // Names it held may now be free for another CRD of its group.
          for (const other of this.#known.values()) if (other.spec.group === (ev.object as unknown as CustomResourceDefinition).spec.group) this.#queue(other.metadata.name!);
          return;
        }
        this.#known.set(name, ev.object as unknown as CustomResourceDefinition);
        this.#queue(name);
      },
      onError: (err) => {
        if (!this.#stopped) this.#onError(err);
      },
    });
    for (const name of this.#known.keys()) this.#queue(name);
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.close();
    for (const r of this.#retries.values()) r.timer.cancel();
  }

  /** Resolves when no reconcile is running or queued (tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.#running.size) await Promise.all([...this.#running.values()]);
  }

  #queue(name: string): void {
    if (this.#stopped) return;
    if (this.#running.has(name)) {
      this.#again.add(name);
      return;
    }
    const run = this.#reconcile(name)
      .then(() => {
        const r = this.#retries.get(name);
        r?.timer.cancel();
        this.#retries.delete(name);
      })
      .catch((err: unknown) => {
        if (this.#stopped) return;
        if (!(err instanceof StatusError && err.code === 409)) this.#onError(err);
        const n = (this.#retries.get(name)?.n ?? 0) + 1;
        this.#retries.get(name)?.timer.cancel();
        // Backoff: 100 ms, 200 ms... at most 10 s.
        this.#retries.set(name, { n, timer: this.#clock.setTimeout(() => this.#queue(name), Math.min(100 * 2 ** (n - 1), 10_000)) });
      })
      .finally(() => {
        this.#running.delete(name);
        if (this.#again.delete(name)) this.#queue(name);
      });
    this.#running.set(name, run);
  }

  async #reconcile(name: string): Promise<void> {
    const crd = (await this.#crds.tryGet(undefined, name)) as unknown as CustomResourceDefinition | null;
    if (!crd) return;
    if (crd.metadata.deletionTimestamp) return this.#finalize(crd);
    const accepted = this.#acceptNames(crd);
    const now = rfc3339(this.#clock.now());
    const conditions: CustomResourceDefinitionCondition[] = [];
    if (accepted.conflict) {
      conditions.push({ type: 'NamesAccepted', status: 'False', reason: accepted.reason, message: accepted.conflict });
      conditions.push({ type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
    } else {
      conditions.push({ type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
      conditions.push({ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
    }
    const updated = await this.#crds.guaranteedUpdate(undefined, name, (cur) => {
      const c = cur as unknown as CustomResourceDefinition;
      const status = (c.status ??= {});
      if (!accepted.conflict) status.acceptedNames = accepted.names;
      else status.acceptedNames ??= { plural: '', kind: '' };
      status.conditions = mergeConditions(status.conditions ?? [], conditions, now);
      return cur;
    }, { subresource: 'status' });
    const current = updated as unknown as CustomResourceDefinition;
    this.#known.set(name, current);
    if (isEstablished(current)) this.#serve(current);
  }

  /** The names a CRD asks for, unless another CRD of its group or a built-in kind has one of them. */
  #acceptNames(crd: CustomResourceDefinition): { names: CustomResourceDefinitionNames; conflict?: string; reason?: string } {
    const want = crd.spec.names;
    const group = crd.spec.group;
    const taken = new Set(this.#builtin);
    for (const other of this.#known.values()) {
      if (other.metadata.name === crd.metadata.name || other.spec.group !== group) continue;
      const names = other.status?.acceptedNames;
      if (names?.plural) for (const n of namesOf(group, names)) taken.add(n);
    }
    const check = (kind: string, value: string | undefined) => (value && taken.has(`${group}/${kind}/${value}`) ? `"${value}" is already in use` : undefined);
    const conflict =
      check('resource', want.plural) ??
      check('resource', want.singular) ??
      (want.shortNames ?? []).map((s) => check('resource', s)).find((m) => m) ??
      check('kind', want.kind);
    if (conflict) return { names: want, conflict, reason: 'NameConflict' };
    const listConflict = check('kind', want.listKind);
    if (listConflict) return { names: want, conflict: listConflict, reason: 'ListKindConflict' };
    return { names: want };
  }

  #serve(crd: CustomResourceDefinition): void {
    const names = crd.status?.acceptedNames;
    if (!names?.plural) return;
    const from = JSON.stringify([crd.spec, names]);
    if (this.#served.get(crd.metadata.name!) === from) return;
    this.#served.set(crd.metadata.name!, from);
    this.#registry.setKinds(crd.spec.group, names.plural, customResourceKinds(crd));
  }

  #unserve(crd: CustomResourceDefinition): void {
    const plural = crd.status?.acceptedNames?.plural || crd.spec.names.plural;
    this.#served.delete(crd.metadata.name!);
    this.#registry.removeKinds(crd.spec.group, plural);
  }

  /** Deletes every custom resource of a deleted CRD, then lets the CRD go. */
  async #finalize(crd: CustomResourceDefinition): Promise<void> {
    if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
    const plural = crd.status?.acceptedNames?.plural || crd.spec.names.plural;
    const store = this.#registry.tryStore(plural, crd.spec.group);
    let remaining = 0;
    if (store) {
      try {
        const list = await store.list({});
        for (const obj of list.items) {
          if (obj.metadata?.deletionTimestamp) {
            remaining++;
            continue;
          }
          try {
            const out = await store.delete(obj.metadata?.namespace, obj.metadata!.name!, {});
            if (!out.deleted) remaining++;
          } catch (err) {
            if (!(err instanceof StatusError && err.code === 404)) throw err;
          }
        }
      } catch (err) {
        await this.#setTerminating(crd.metadata.name!, 'InstanceDeletionFailed', `could not list/delete instances: ${(err as Error).message}`);
        throw err;
      }
    }
    if (remaining > 0) {
      await this.#setTerminating(crd.metadata.name!, 'InstanceDeletionInProgress', 'CustomResource deletion is in progress');
      throw new StatusError(409, 'Conflict', `${remaining} custom resources of ${crd.metadata.name} are still being deleted`);
    }
    await this.#crds.guaranteedUpdate(undefined, crd.metadata.name!, (cur) => {
      const meta = cur.metadata!;
      meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
      return cur;
    });
  }

  async #setTerminating(name: string, reason: string, message: string): Promise<void> {
    const now = rfc3339(this.#clock.now());
    await this.#crds.guaranteedUpdate(undefined, name, (cur: KubeObject) => {
      const c = cur as unknown as CustomResourceDefinition;
      const status = (c.status ??= {});
      status.conditions = mergeConditions(status.conditions ?? [], [{ type: 'Terminating', status: 'True', reason, message }], now);
      return cur;
    }, { subresource: 'status' });
  }
}

/** "group/resource/x" and "group/kind/X" entries of a set of names. */
function namesOf(group: string, n: Partial<CustomResourceDefinitionNames>): string[] {
  const out: string[] = [];
  for (const r of [n.plural, n.singular, ...(n.shortNames ?? [])]) if (r) out.push(`${group}/resource/${r}`);
  for (const k of [n.kind, n.listKind]) if (k) out.push(`${group}/kind/${k}`);
  return out;
}

function isEstablished(crd: CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

/** Sets each condition, keeping lastTransitionTime when its status does not change. */
function mergeConditions(old: CustomResourceDefinitionCondition[], set: CustomResourceDefinitionCondition[], now: string): CustomResourceDefinitionCondition[] {
  const out = old.filter((o) => !set.some((c) => c.type === o.type));
  for (const c of set) {
    const was = old.find((o) => o.type === c.type);
    out.push({ ...c, lastTransitionTime: was && was.status === c.status ? was.lastTransitionTime : now });
  }
  return out;
}
