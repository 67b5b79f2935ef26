import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../../api/field.ts';
import { attributesOf, reviewStatus, subjectOf, validateClusterAccessReview, validateLocalAccessReview, type AccessReview } from './access.ts';

const render = (errs: FieldError[]) => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
const pods = { verb: 'list', resource: 'pods', namespace: 'ns' };

describe('access review validation (kube pkg/apis/authorization/validation)', () => {
  const cases: Array<{ name: string; kind: 'sar' | 'ssar' | 'lsar'; review: AccessReview; want: string[] }> = [
    { name: 'a SubjectAccessReview of a user', kind: 'sar', review: { spec: { user: 'jane', resourceAttributes: pods } }, want: [] },
    { name: 'a SubjectAccessReview of a group only', kind: 'sar', review: { spec: { groups: ['dev'], nonResourceAttributes: { path: '/logs', verb: 'get' } } }, want: [] },
    {
      name: 'neither attributes nor subject',
      kind: 'sar',
      review: { spec: {} },
      want: ['spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', 'spec.user: Invalid value: "": at least one of user or group must be specified'],
    },
    {
      name: 'both attributes',
      kind: 'sar',
      review: { spec: { user: 'jane', resourceAttributes: pods, nonResourceAttributes: { path: '/logs', verb: 'get' } } },
      want: ['spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/logs", Verb:"get"}: cannot be specified in combination with resourceAttributes'],
    },
    {
      name: 'metadata of a SubjectAccessReview',
      kind: 'sar',
      review: { metadata: { name: 'x' }, spec: { user: 'jane', resourceAttributes: pods } },
      want: [
        'metadata: Invalid value: v1.ObjectMeta{Name:"x", GenerateName:"", Namespace:"", SelfLink:"", UID:"", ResourceVersion:"", Generation:0, CreationTimestamp:time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC), DeletionTimestamp:<nil>, DeletionGracePeriodSeconds:(*int64)(nil), Labels:map[string]string(nil), Annotations:map[string]string(nil), OwnerReferences:[]v1.OwnerReference(nil), Finalizers:[]string(nil), ManagedFields:[]v1.ManagedFieldsEntry(nil)}: must be empty',
      ],
    },
    { name: 'empty metadata as kubectl sends it', kind: 'ssar', review: { metadata: { creationTimestamp: null, labels: {} } as unknown as AccessReview['metadata'], spec: { resourceAttributes: pods } }, want: [] },
    { name: 'a SelfSubjectAccessReview needs no subject', kind: 'ssar', review: { spec: { nonResourceAttributes: { path: '/logs', verb: 'get' } } }, want: [] },
    { name: 'a SelfSubjectAccessReview asks something', kind: 'ssar', review: { spec: {} }, want: ['spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified'] },
    {
      name: 'selector with both a raw selector and requirements',
      kind: 'ssar',
      review: { spec: { resourceAttributes: { ...pods, labelSelector: { rawSelector: 'a=b', requirements: [{ key: 'a', operator: 'In', values: ['b'] }] } } } },
      want: ['spec.resourceAttributes.labelSelector.rawSelector: Invalid value: "a=b": may not specified at the same time as requirements'],
    },
    {
      name: 'selector with neither',
      kind: 'ssar',
      review: { spec: { resourceAttributes: { ...pods, fieldSelector: {} } } },
      want: ['spec.resourceAttributes.fieldSelector.requirements: Required value: when spec.resourceAttributes.fieldSelector is specified, requirements or rawSelector is required'],
    },
    {
      name: 'label requirements: values as the operator needs; unknown operators allowed',
      kind: 'ssar',
      review: { spec: { resourceAttributes: { ...pods, labelSelector: { requirements: [{ key: 'a', operator: 'In' }, { key: 'b', operator: 'Exists', values: ['x'] }, { key: 'c', operator: 'Newer' }] } } } },
      want: [
        "spec.resourceAttributes.labelSelector.requirements[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.resourceAttributes.labelSelector.requirements[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      ],
    },
    {
      name: 'field requirements: a key, and values as the operator needs',
      kind: 'ssar',
      review: { spec: { resourceAttributes: { ...pods, fieldSelector: { requirements: [{ operator: 'In', values: ['x'] }, { key: 'spec.nodeName', operator: 'NotIn' }, { key: 'a', operator: 'DoesNotExist', values: ['x'] }, { key: 'b', operator: 'Newer' }] } } } },
      want: [
        'spec.resourceAttributes.fieldSelector.requirements[0].key: Required value: must be specified',
        "spec.resourceAttributes.fieldSelector.requirements[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.resourceAttributes.fieldSelector.requirements[2].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      ],
    },
    { name: 'a LocalSubjectAccessReview in its namespace', kind: 'lsar', review: { metadata: { namespace: 'ns' }, spec: { user: 'jane', resourceAttributes: pods } }, want: [] },
    {
      name: 'a LocalSubjectAccessReview about another namespace',
      kind: 'lsar',
      review: { metadata: { namespace: 'other' }, spec: { user: 'jane', resourceAttributes: pods } },
      want: ['spec.resourceAttributes.namespace: Invalid value: "ns": must match metadata.namespace'],
    },
    {
      name: 'a LocalSubjectAccessReview of a path',
      kind: 'lsar',
      review: { metadata: { namespace: 'ns' }, spec: { user: 'jane', nonResourceAttributes: { path: '/logs', verb: 'get' } } },
      want: ['spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/logs", Verb:"get"}: disallowed on this kind of request'],
    },
    {
      name: 'a LocalSubjectAccessReview with a name',
      kind: 'lsar',
      review: { metadata: { namespace: 'ns', name: 'n', labels: { a: 'b' } }, spec: { user: 'jane', resourceAttributes: pods } },
      want: [
        'metadata: Invalid value: v1.ObjectMeta{Name:"n", GenerateName:"", Namespace:"ns", SelfLink:"", UID:"", ResourceVersion:"", Generation:0, CreationTimestamp:time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC), DeletionTimestamp:<nil>, DeletionGracePeriodSeconds:(*int64)(nil), Labels:map[string]string{"a":"b"}, Annotations:map[string]string(nil), OwnerReferences:[]v1.OwnerReference(nil), Finalizers:[]string(nil), ManagedFields:[]v1.ManagedFieldsEntry(nil)}: must be empty except for namespace',
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const errs = c.kind === 'lsar' ? validateLocalAccessReview(c.review) : validateClusterAccessReview(c.review, c.kind === 'sar');
      assert.deepEqual(render(errs), c.want);
    });
  }
});

describe('access review attributes and status', () => {
  it('asks about every version when none is named, and about the spec subject', () => {
    const spec = { user: 'jane', groups: ['dev'], uid: 'u1', extra: { scopes: ['x'] }, resourceAttributes: { verb: 'get', group: 'apps', resource: 'deployments', subresource: 'scale', name: 'web', namespace: 'ns' } };
    assert.deepEqual(attributesOf(subjectOf(spec), spec), {
      user: { name: 'jane', groups: ['dev'], uid: 'u1', extra: { scopes: ['x'] } },
      verb: 'get', isResourceRequest: true, apiGroup: 'apps', apiVersion: '*', resource: 'deployments', subresource: 'scale', namespace: 'ns', name: 'web', path: '',
    });
    const path = attributesOf({ name: 'me', groups: [] }, { nonResourceAttributes: { path: '/logs', verb: 'get' } });
    assert.deepEqual([path.isResourceRequest, path.path, path.verb], [false, '/logs', 'get']);
  });

  const statuses: Array<{ name: string; decide: () => { decision: 'allow' | 'deny' | 'noOpinion'; reason: string }; want: object }> = [
    { name: 'allow', decide: () => ({ decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "x"' }), want: { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "x"' } },
    { name: 'no opinion', decide: () => ({ decision: 'noOpinion', reason: '' }), want: { allowed: false } },
    { name: 'deny', decide: () => ({ decision: 'deny', reason: 'never' }), want: { allowed: false, denied: true, reason: 'never' } },
    {
      name: 'an authorizer that fails',
      decide: () => {
        throw new Error('cache not synced');
      },
      want: { allowed: false, evaluationError: 'cache not synced' },
    },
  ];
  const selectors: Array<{ name: string; ra: object; want: string | undefined }> = [
    { name: 'selectors that parse', ra: { fieldSelector: { rawSelector: 'spec.nodeName=n1' }, labelSelector: { requirements: [{ key: 'app', operator: 'In', values: ['web'] }] } }, want: undefined },
    { name: 'a raw field selector that does not parse', ra: { fieldSelector: { rawSelector: 'spec.nodeName' } }, want: 'spec.resourceAttributes.fieldSelector ignored due to parse error' },
    {
      name: 'some requirements that do not convert, of both kinds',
      ra: { fieldSelector: { requirements: [{ key: 'a', operator: 'In', values: ['x', 'y'] }, { key: 'b', operator: 'In', values: ['x'] }] }, labelSelector: { requirements: [{ key: 'app', operator: 'Newer' }] } },
      want: 'spec.resourceAttributes.fieldSelector partially ignored due to parse error; spec.resourceAttributes.labelSelector ignored due to parse error',
    },
    { name: 'a raw label selector that does not parse', ra: { labelSelector: { rawSelector: 'a in (' } }, want: 'spec.resourceAttributes.labelSelector ignored due to parse error' },
  ];
  for (const c of selectors) {
    it(`evaluationError: ${c.name}`, async () => {
      const spec = { resourceAttributes: { ...pods, ...c.ra } };
      const s = await reviewStatus({ authorize: () => ({ decision: 'allow', reason: '' }) }, attributesOf({ name: 'me', groups: [] }, spec), spec);
      assert.deepEqual(s, c.want === undefined ? { allowed: true } : { allowed: true, evaluationError: c.want });
    });
  }

  for (const c of statuses) {
    it(`status: ${c.name}`, async () => {
      assert.deepEqual(await reviewStatus({ authorize: c.decide }, attributesOf({ name: 'me', groups: [] }, { resourceAttributes: pods })), c.want);
    });
  }
});
