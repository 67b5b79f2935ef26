import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactRules, compactString, covers, ruleAllows, type RuleRequest } from './rules.ts';
import type { PolicyRule } from './types.ts';

const req = (verb: string, resource: string, o: Partial<RuleRequest> = {}): RuleRequest => {
  const [res, sub] = resource.split('/');
  return { verb, isResourceRequest: true, apiGroup: '', resource: res!, subresource: sub ?? '', name: '', path: '', ...o };
};
const url = (verb: string, path: string): RuleRequest => ({ verb, isResourceRequest: false, apiGroup: '', resource: '', subresource: '', name: '', path });

test('ruleAllows matches verbs, groups, resources, subresources, names and URLs as kube does', () => {
  const cases: Array<[string, PolicyRule, RuleRequest, boolean]> = [
    ['exact', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, req('get', 'pods'), true],
    ['other verb', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, req('list', 'pods'), false],
    ['verb *', { verbs: ['*'], apiGroups: [''], resources: ['pods'] }, req('delete', 'pods'), true],
    ['other group', { verbs: ['get'], apiGroups: [''], resources: ['deployments'] }, req('get', 'deployments', { apiGroup: 'apps' }), false],
    ['group *', { verbs: ['get'], apiGroups: ['*'], resources: ['deployments'] }, req('get', 'deployments', { apiGroup: 'apps' }), true],
    ['resource *', { verbs: ['get'], apiGroups: [''], resources: ['*'] }, req('get', 'pods/log'), true],
    ['resource does not cover its subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, req('get', 'pods/log'), false],
    ['resource/subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, req('get', 'pods/log'), true],
    ['subresource does not cover the resource', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, req('get', 'pods'), false],
    ['*/subresource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, req('get', 'deployments/scale', { apiGroup: 'apps' }), true],
    ['*/subresource, other subresource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, req('get', 'deployments/status', { apiGroup: 'apps' }), false],
    ['*/subresource, no subresource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, req('get', 'scale'), false],
    ['resourceNames hit', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, req('get', 'configmaps', { name: 'a' }), true],
    ['resourceNames miss', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, req('get', 'configmaps', { name: 'b' }), false],
    ['resourceNames and a list (no name)', { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, req('list', 'configmaps'), false],
    ['URL exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('get', '/healthz'), true],
    ['URL prefix *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url('get', '/apis/apps/v1'), true],
    ['URL prefix * is not the bare path', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url('get', '/apis'), false],
    ['URL *', { verbs: ['*'], nonResourceURLs: ['*'] }, url('post', '/anything'), true],
    ['URL rule never allows a resource', { verbs: ['*'], nonResourceURLs: ['*'] }, req('get', 'pods'), false],
    ['resource rule never allows a URL', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, url('get', '/healthz'), false],
  ];
  for (const [what, rule, r, want] of cases) assert.equal(ruleAllows(r, rule), want, what);
});

test('covers: what the owner lacks, broken down, compacted by verb, in kube\'s compact text', () => {
  const owner: PolicyRule[] = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', '*/status'] },
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
    { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
  ];
  const cases: Array<[string, PolicyRule[], string[]]> = [
    ['held', [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'pods/status'] }], []],
    ['a named object of a held name', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }], []],
    ['all names when only one is held', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }], ['{APIGroups:[""], Resources:["configmaps"], Verbs:["get"]}']],
    ['verbs not held', [{ verbs: ['get', 'delete', 'create'], apiGroups: [''], resources: ['pods'] }], ['{APIGroups:[""], Resources:["pods"], Verbs:["delete" "create"]}']],
    ['URL under a held prefix', [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }], []],
    ['URL not held', [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }], ['{NonResourceURLs:["/metrics"], Verbs:["get"]}']],
  ];
  for (const [what, servant, want] of cases) {
    const { covered, missing } = covers(owner, servant);
    assert.equal(covered, want.length === 0, what);
    assert.deepEqual(compactRules(missing).map(compactString), want, what);
  }
});

test('compactString prints each part only when set', () => {
  assert.equal(compactString({ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['x'] }), '{APIGroups:[""], Resources:["pods"], ResourceNames:["x"], Verbs:["get"]}');
});
