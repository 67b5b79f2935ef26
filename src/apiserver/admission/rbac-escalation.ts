// Privilege-escalation prevention for RBAC objects (kube's role/clusterrole/rolebinding/
// clusterrolebinding policybased storage): nobody creates or changes a Role or ClusterRole with rules
// they do not hold themselves unless they may `escalate` it, and nobody binds a role whose rules they
// do not hold unless they may `bind` it. system:masters may do both (EscalationAllowed).
//
// Run as the last mutating plugin, though it changes nothing: kube checks in the RBAC kinds' storage
// (registry/rbac/*/policybased), after mutating admission and before the strategy's validation, so an
// escalation is refused (403) before an invalid object is (422). The rules the user holds come from
// the shared RBAC cache (auth/rbac/cache.ts), the referenced role is read through to storage.

import type { KubeObject } from '../../api/types.ts';
import { semanticDeepEqual } from '../../api/equality.ts';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from '../../api/rbac/types.ts';
import { compactRules, compactString, covers, goQuotedList } from '../../api/rbac/rules.ts';
import type { Registry } from '../../registry/registry.ts';
import { StatusError } from '../../util/status.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import { aggregateErrors, sharedRbacCache, type RbacCache } from '../auth/rbac/cache.ts';
import type { User } from '../auth/user.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

const GROUP = 'rbac.authorization.k8s.io';
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export class RBACEscalation implements AdmissionPlugin {
  readonly name = 'RBACEscalation';
  readonly #cache: RbacCache;
  readonly #authorizer: Authorizer;
  #started = false;

  constructor(registry: Registry, authorizer: Authorizer) {
    this.#cache = sharedRbacCache(registry);
    this.#authorizer = authorizer;
  }

  async start(): Promise<void> {
    this.#started = true;
    await this.#cache.acquire();
  }

  stop(): void {
    if (this.#started) this.#cache.release();
    this.#started = false;
  }

  async admit(a: AdmissionAttributes, obj: KubeObject, old: KubeObject | undefined): Promise<void> {
    if (a.resource.group !== GROUP || a.subresource || (a.operation !== 'CREATE' && a.operation !== 'UPDATE')) return;
    if (a.user.groups.includes('system:masters')) return;
    if (old && onlyGCFieldsChanged(obj, old)) return;
    const resource = a.resource.resource;
    const namespace = a.namespace ?? '';
    const name = obj.metadata?.name ?? a.name;
    if (resource === 'roles' || resource === 'clusterroles') {
      // RoleEscalationAuthorized: the escalate verb on this role.
      if (await this.#allowed(a.user, 'escalate', resource, namespace, a.name)) return;
      const role = obj as Role | ClusterRole;
      this.#confirmNoEscalation(a.user, namespace, role.rules ?? [], resource, name);
      if (resource === 'clusterroles' && (role as ClusterRole).aggregationRule) {
        // An aggregationRule can gather anything: it takes * on *.*.
        if (!covers(this.#cache.rulesFor(a.user, namespace).rules, FULL_AUTHORITY).covered) {
          throw forbidden(resource, name, 'must have cluster-admin privileges to use the aggregationRule');
        }
      }
      return;
    }
    if (resource === 'rolebindings' || resource === 'clusterrolebindings') {
      const ref = (obj as RoleBinding | ClusterRoleBinding).roleRef;
      // BindingAuthorized: the bind verb on the referenced role, in the binding's namespace.
      if (ref && (ref.kind === 'Role' || ref.kind === 'ClusterRole') && (await this.#allowed(a.user, 'bind', ref.kind === 'Role' ? 'roles' : 'clusterroles', namespace, ref.name, ref.apiGroup ?? ''))) return;
      const rules = ref ? await this.#cache.fetchRoleRefRules(ref, namespace) : null;
      if (!rules) {
        const plural = ref?.kind === 'Role' ? 'roles' : 'clusterroles';
        throw new StatusError(404, 'NotFound', `${plural}.${GROUP} ${JSON.stringify(ref?.name ?? '')} not found`, { name: ref?.name ?? '', group: GROUP, kind: plural });
      }
      this.#confirmNoEscalation(a.user, namespace, rules, resource, name);
    }
  }

  async #allowed(user: User, verb: string, resource: string, namespace: string, name: string, apiGroup = GROUP): Promise<boolean> {
    const r = await this.#authorizer.authorize({ user, verb, isResourceRequest: true, apiGroup, apiVersion: '*', resource, subresource: '', namespace, name, path: '' });
    return r.decision === 'allow';
  }

  /** ConfirmNoEscalation, with kube's message listing the rules the user lacks. */
  #confirmNoEscalation(user: User, namespace: string, rules: PolicyRule[], resource: string, name: string): void {
    const owner = this.#cache.rulesFor(user, namespace);
    const { covered, missing } = covers(owner.rules, rules);
    if (covered) return;
    const lines = [...new Set(compactRules(missing).map(compactString))].sort();
    let msg = `user ${JSON.stringify(user.name)} (groups=${goQuotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
    if (owner.errors.length) msg += `; resolution errors: [${aggregateErrors(owner.errors)}]`;
    throw forbidden(resource, name, msg);
  }
}

/** errors.NewForbidden for an RBAC resource. */
function forbidden(resource: string, name: string, why: string): StatusError {
  const what = name ? `${resource}.${GROUP} ${JSON.stringify(name)}` : `${resource}.${GROUP}`;
  return new StatusError(403, 'Forbidden', `${what} is forbidden: ${why}`, { ...(name ? { name } : {}), group: GROUP, kind: resource });
}

/** IsOnlyMutatingGCFields: an update that only changes owner references or finalizers (the garbage collector's). */
function onlyGCFieldsChanged(obj: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject): KubeObject => {
    const { ownerReferences: _o, finalizers: _f, resourceVersion: _r, managedFields: _m, generation: _g, ...meta } = o.metadata ?? {};
    return { ...o, metadata: meta };
  };
  return semanticDeepEqual(strip(obj), strip(old));
}
