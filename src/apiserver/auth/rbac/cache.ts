// The RBAC objects as the authorizer and the escalation checks read them: a watched copy of the four
// stores (kube's RBAC authorizer reads informer listers), with the bindings indexed by subject, so a
// request looks at the bindings that name its user or one of its groups and not at every binding
// (1,000 RoleBindings cost a lookup, not a scan).
//
// One cache per registry, shared by the authorizer and the escalation admission (sharedRbacCache);
// each user acquires it and releases it. Reads are synchronous once synced; they never throw.

import type { KubeObject } from '../../../api/types.ts';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from '../../../api/rbac/types.ts';
import { serviceAccountUsername } from '../../../api/rbac/rules.ts';
import type { Registry } from '../../../registry/registry.ts';
import type { Store, StoreWatch } from '../../../registry/store.ts';
import type { User } from '../user.ts';

type Binding = RoleBinding | ClusterRoleBinding;

/** A watched copy of one store, calling back on every change. */
class WatchedStore {
  readonly items = new Map<string, KubeObject>();
  readonly #store: Store;
  readonly #onChange: (key: string, old: KubeObject | undefined, now: KubeObject | undefined) => void;
  #watch: StoreWatch | undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(store: Store, onChange: (key: string, old: KubeObject | undefined, now: KubeObject | undefined) => void) {
    this.#store = store;
    this.#onChange = onChange;
  }

  async start(): Promise<void> {
    const list = await this.#store.list({});
    const seen = new Set<string>();
    for (const o of list.items) {
      const k = keyOf(o);
      seen.add(k);
      this.#set(k, o);
    }
    for (const k of [...this.items.keys()]) if (!seen.has(k)) this.#set(k, undefined);
    const watch = await this.#store.watch({
      resourceVersion: list.resourceVersion,
      onEvent: (ev) => {
        if (ev.type === 'DELETED') this.#set(keyOf(ev.object), undefined);
        else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.#set(keyOf(ev.object), ev.object);
      },
      onError: () => {
        // The watch ended (compaction, a closing store): list again, unless stopping.
        this.#watch = undefined;
        if (!this.#stopped) this.#retry = setTimeout(() => void this.start().catch(() => undefined), 1000);
      },
    });
    if (this.#stopped) return watch.close();
    this.#watch = watch;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#watch?.close();
  }

  async fetch(namespace: string | undefined, name: string): Promise<KubeObject | null> {
    return this.items.get(`${namespace ?? ''}/${name}`) ?? (await this.#store.tryGet(namespace, name));
  }

  #set(key: string, obj: KubeObject | undefined): void {
    const old = this.items.get(key);
    if (obj) this.items.set(key, obj);
    else this.items.delete(key);
    this.#onChange(key, old, obj);
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** The index keys a binding's subject is found under ("" when it can apply to nobody). */
function subjectKey(s: Subject, bindingNamespace: string): string {
  switch (s.kind) {
    case 'User':
      return `u:${s.name}`;
    case 'Group':
      return `g:${s.name}`;
    case 'ServiceAccount': {
      // A RoleBinding's service account defaults to the binding's namespace (appliesToUser).
      const ns = s.namespace || bindingNamespace;
      return ns ? `u:${serviceAccountUsername(ns, s.name)}` : '';
    }
    default:
      return '';
  }
}

/** Bindings by subject key, each with the subject that put it there. */
class SubjectIndex {
  readonly #byKey = new Map<string, Map<Binding, Subject>>();

  update(old: Binding | undefined, now: Binding | undefined): void {
    if (old) for (const k of this.#keys(old).keys()) {
      const m = this.#byKey.get(k);
      m?.delete(old);
      if (m && m.size === 0) this.#byKey.delete(k);
    }
    if (now) for (const [k, subject] of this.#keys(now)) {
      let m = this.#byKey.get(k);
      if (!m) this.#byKey.set(k, (m = new Map()));
      m.set(now, subject);
    }
  }

  /** The bindings naming the user or one of its groups, each once, with the subject that matched. */
  lookup(user: User, out: Array<{ binding: Binding; subject: Subject }>): void {
    // Runs on every request: no key is rebuilt here, and the set of bindings already found is made
    // only once a second key has bindings (one naming the user and a group, or two groups, counts once).
    const start = out.length;
    let seen: Set<Binding> | undefined;
    const visit = (m: Map<Binding, Subject> | undefined) => {
      if (!m) return;
      if (!seen && out.length > start) seen = new Set(out.slice(start).map((f) => f.binding));
      for (const [binding, subject] of m) {
        if (seen) {
          if (seen.has(binding)) continue;
          seen.add(binding);
        }
        out.push({ binding, subject });
      }
    };
    visit(this.#byKey.get(`u:${user.name}`));
    for (const g of user.groups) visit(this.#byKey.get(`g:${g}`));
  }

  /** Each subject key of the binding, with its first subject of that key. */
  #keys(b: Binding): Map<string, Subject> {
    const ns = b.metadata?.namespace ?? '';
    const keys = new Map<string, Subject>();
    for (const s of b.subjects ?? []) {
      const k = subjectKey(s, ns);
      if (k && !keys.has(k)) keys.set(k, s);
    }
    return keys;
  }
}

/** One rule with where it came from (kube's rule visitor source), or a resolution error. */
export type VisitedRule = { rule: PolicyRule; source: () => string } | { error: string };

export class RbacCache {
  readonly #roles: WatchedStore;
  readonly #clusterRoles: WatchedStore;
  readonly #roleBindings: WatchedStore;
  readonly #clusterRoleBindings: WatchedStore;
  readonly #clusterIndex = new SubjectIndex();
  readonly #namespaceIndex = new Map<string, SubjectIndex>();
  #started: Promise<void> | undefined;
  #synced = false;
  #users = 0;

  constructor(registry: Registry) {
    const g = 'rbac.authorization.k8s.io';
    this.#roles = new WatchedStore(registry.store('roles', g), () => undefined);
    this.#clusterRoles = new WatchedStore(registry.store('clusterroles', g), () => undefined);
    this.#roleBindings = new WatchedStore(registry.store('rolebindings', g), (_k, old, now) => {
      const ns = (now ?? old)?.metadata?.namespace ?? '';
      let idx = this.#namespaceIndex.get(ns);
      if (!idx) this.#namespaceIndex.set(ns, (idx = new SubjectIndex()));
      idx.update(old as Binding | undefined, now as Binding | undefined);
    });
    this.#clusterRoleBindings = new WatchedStore(registry.store('clusterrolebindings', g), (_k, old, now) => this.#clusterIndex.update(old as Binding | undefined, now as Binding | undefined));
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Starts the watches once; every caller gets the same promise. Pair with release(). */
  acquire(): Promise<void> {
    this.#users++;
    this.#started ??= Promise.all([this.#roles.start(), this.#clusterRoles.start(), this.#roleBindings.start(), this.#clusterRoleBindings.start()]).then(() => {
      this.#synced = true;
    });
    return this.#started;
  }

  release(): void {
    if (--this.#users > 0) return;
    for (const w of [this.#roles, this.#clusterRoles, this.#roleBindings, this.#clusterRoleBindings]) w.stop();
  }

  /** GetRoleReferenceRules from the copy; the error text is the lister's NotFound. */
  roleRefRules(ref: RoleRef, bindingNamespace: string): PolicyRule[] | { error: string } {
    if (ref.kind === 'Role') {
      const r = this.#roles.items.get(`${bindingNamespace}/${ref.name}`) as Role | undefined;
      return r ? (r.rules ?? []) : { error: `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found` };
    }
    if (ref.kind === 'ClusterRole') {
      const r = this.#clusterRoles.items.get(`/${ref.name}`) as ClusterRole | undefined;
      return r ? (r.rules ?? []) : { error: `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found` };
    }
    return { error: `unsupported role reference kind: ${JSON.stringify(ref.kind)}` };
  }

  /** The referenced role read through to storage when the copy lacks it (a role created a moment ago); null when it does not exist. */
  async fetchRoleRefRules(ref: RoleRef, bindingNamespace: string): Promise<PolicyRule[] | null> {
    const store = ref.kind === 'Role' ? this.#roles : this.#clusterRoles;
    const obj = (await store.fetch(ref.kind === 'Role' ? bindingNamespace : undefined, ref.name)) as Role | null;
    return obj ? (obj.rules ?? []) : null;
  }

  /**
   * VisitRulesFor: the rules of the ClusterRoleBindings, then (with a namespace) the RoleBindings of
   * that namespace, that apply to the user; `visit` returning false stops the walk.
   */
  visitRulesFor(user: User, namespace: string, visit: (v: VisitedRule) => boolean): void {
    const found: Array<{ binding: Binding; subject: Subject }> = [];
    this.#clusterIndex.lookup(user, found);
    const clusterCount = found.length;
    if (namespace) this.#namespaceIndex.get(namespace)?.lookup(user, found);
    for (let i = 0; i < found.length; i++) {
      const { binding, subject } = found[i]!;
      const ns = i < clusterCount ? '' : namespace;
      const rules = this.roleRefRules(binding.roleRef, ns);
      if (!Array.isArray(rules)) {
        if (!visit(rules)) return;
        continue;
      }
      const source = () => describeBinding(binding, subject, ns);
      for (const rule of rules) if (!visit({ rule, source })) return;
    }
  }

  /** RulesFor: every rule that applies, and the resolution errors. */
  rulesFor(user: User, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (v) => {
      if ('error' in v) errors.push(v.error);
      else rules.push(v.rule);
      return true;
    });
    return { rules, errors };
  }

  /** Every ClusterRole of the copy (the aggregation tests and bootstrap read them). */
  clusterRoles(): ClusterRole[] {
    return [...this.#clusterRoles.items.values()] as ClusterRole[];
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

function describeBinding(b: Binding, s: Subject, namespace: string): string {
  const ref = `${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)}`;
  if (!namespace) return `ClusterRoleBinding ${JSON.stringify(b.metadata?.name ?? '')} of ${ref} to ${describeSubject(s, '')}`;
  return `RoleBinding ${JSON.stringify(`${b.metadata?.name ?? ''}/${namespace}`)} of ${ref} to ${describeSubject(s, namespace)}`;
}

/** Go's utilerrors.NewAggregate(errs).Error(): one message alone, several in brackets. */
export function aggregateErrors(errors: readonly string[]): string {
  return errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`;
}

const shared = new WeakMap<Registry, RbacCache>();

/** The registry's one RBAC cache. */
export function sharedRbacCache(registry: Registry): RbacCache {
  let c = shared.get(registry);
  if (!c) shared.set(registry, (c = new RbacCache(registry)));
  return c;
}
