import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../field.ts';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../rbac/types.ts';
import { validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding, validateRoleBindingUpdate } from './rbac.ts';

const text = (errs: FieldError[]) => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
const G = 'rbac.authorization.k8s.io';
const ns = { name: 'r', namespace: 'ns' };

test('roles and cluster roles: kube\'s policy rule messages', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['no verbs', text(validateRole({ metadata: ns, rules: [{ verbs: [], apiGroups: [''], resources: ['pods'] }] } as Role)), ['rules[0].verbs: Required value: verbs must contain at least one value']],
    ['no groups or resources', text(validateRole({ metadata: ns, rules: [{ verbs: ['get'] }] } as Role)), ['rules[0].apiGroups: Required value: resource rules must supply at least one api group', 'rules[0].resources: Required value: resource rules must supply at least one resource']],
    ['names with several resources', text(validateRole({ metadata: ns, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'secrets'], resourceNames: ['a'] }] } as Role)), ['rules[0].resourceNames: Required value: resource names cannot apply to multiple resources']],
    ['URLs in a Role', text(validateRole({ metadata: ns, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] } as Role)), ['rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs']],
    ['URLs and resources', text(validateClusterRole({ metadata: { name: 'c' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'], resources: ['pods'] }] } as ClusterRole)), ['rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: rules cannot apply to both regular resources and non-resource URLs']],
    ['URLs in a ClusterRole', text(validateClusterRole({ metadata: { name: 'c' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] } as ClusterRole)), []],
    ['empty aggregationRule', text(validateClusterRole({ metadata: { name: 'c' }, aggregationRule: { clusterRoleSelectors: [] } } as ClusterRole)), ['aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil']],
    ['name with a slash', text(validateClusterRole({ metadata: { name: 'a/b' } } as ClusterRole)), ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]],
  ];
  for (const [what, got, want] of cases) assert.deepEqual(got, want, what);
});

test('bindings: roleRef and subjects, kube\'s messages', () => {
  const ref = { apiGroup: G, kind: 'ClusterRole', name: 'view' };
  const rb = (o: Partial<RoleBinding>): RoleBinding => ({ metadata: ns, roleRef: ref, ...o }) as RoleBinding;
  const crb = (o: Partial<ClusterRoleBinding>): ClusterRoleBinding => ({ metadata: { name: 'b' }, roleRef: ref, ...o }) as ClusterRoleBinding;
  const cases: Array<[string, string[], string[]]> = [
    ['valid', text(validateRoleBinding(rb({ subjects: [{ kind: 'User', apiGroup: G, name: 'jane' }, { kind: 'ServiceAccount', name: 'default' }] }))), []],
    ['roleRef kind', text(validateRoleBinding(rb({ roleRef: { apiGroup: G, kind: 'Pod', name: 'x' } }))), ['roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"']],
    ['ClusterRoleBinding to a Role', text(validateClusterRoleBinding(crb({ roleRef: { apiGroup: G, kind: 'Role', name: 'x' } }))), ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']],
    ['roleRef group and name', text(validateRoleBinding(rb({ roleRef: { apiGroup: 'x', kind: 'Role', name: '' } }))), ['roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"', 'roleRef.name: Required value']],
    ['user without apiGroup', text(validateRoleBinding(rb({ subjects: [{ kind: 'User', name: 'jane' }] }))), ['subjects[0].apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"']],
    ['service account with apiGroup', text(validateRoleBinding(rb({ subjects: [{ kind: 'ServiceAccount', apiGroup: G, name: 'sa' }] }))), ['subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""']],
    ['service account without namespace in a ClusterRoleBinding', text(validateClusterRoleBinding(crb({ subjects: [{ kind: 'ServiceAccount', name: 'sa' }] }))), ['subjects[0].namespace: Required value']],
    ['unknown kind', text(validateRoleBinding(rb({ subjects: [{ kind: 'Robot', name: 'r2' }] }))), ['subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"']],
    ['empty group name', text(validateRoleBinding(rb({ subjects: [{ kind: 'Group', apiGroup: G, name: '' }] }))), ['subjects[0].name: Required value', 'subjects[0].name: Invalid value: "": group name cannot be empty']],
  ];
  for (const [what, got, want] of cases) assert.deepEqual(got, want, what);
  const old = rb({ metadata: { ...ns, resourceVersion: '1' } });
  const changed = rb({ metadata: { ...ns, resourceVersion: '1' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'edit' } });
  assert.deepEqual(text(validateRoleBindingUpdate(changed, old)), ['roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef']);
});
