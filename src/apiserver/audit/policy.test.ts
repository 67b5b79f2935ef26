import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy, parsePolicy, policyFromFile, type AuditPolicy, type PolicyAttributes } from './policy.ts';

function policy(yaml: string): AuditPolicy {
  const p = parsePolicy(yaml);
  assert.ok(p.ok, p.ok ? '' : p.error);
  return p.policy;
}

const HEAD = 'apiVersion: audit.k8s.io/v1\nkind: Policy\n';

function req(over: Partial<PolicyAttributes> = {}): PolicyAttributes {
  return { user: { name: 'jane', groups: ['dev', 'system:authenticated'] }, verb: 'get', isResourceRequest: true, apiGroup: '', resource: 'pods', subresource: '', namespace: 'default', name: 'web', path: '/api/v1/namespaces/default/pods/web', ...over };
}

describe('audit policy: evaluation (first matching rule wins)', () => {
  const cases: Array<[string, string, Partial<PolicyAttributes>, string]> = [
    ['no rule matches: None', '- level: Metadata\n  users: [bob]', {}, 'None'],
    ['users', '- level: Request\n  users: [jane]', {}, 'Request'],
    ['userGroups', '- level: Request\n  userGroups: [dev]', {}, 'Request'],
    ['userGroups without a user', '- level: Request\n  userGroups: [dev]', { user: undefined }, 'None'],
    ['verbs', '- level: Metadata\n  verbs: [create]\n- level: Request', { verb: 'create' }, 'Metadata'],
    ['verbs not matching fall through', '- level: Metadata\n  verbs: [create]\n- level: Request', {}, 'Request'],
    ['namespaces', '- level: Metadata\n  namespaces: [kube-system]\n- level: RequestResponse', {}, 'RequestResponse'],
    ['cluster-scoped is namespace ""', '- level: Metadata\n  namespaces: [""]', { namespace: '', resource: 'nodes' }, 'Metadata'],
    ['namespaces never match a path', '- level: Metadata\n  namespaces: [default]', { isResourceRequest: false, path: '/healthz' }, 'None'],
    ['group with no resources: every resource of it', '- level: Metadata\n  resources: [{group: ""}]', {}, 'Metadata'],
    ['another group', '- level: Metadata\n  resources: [{group: apps}]', {}, 'None'],
    ['group "*"', '- level: Metadata\n  resources: [{group: "*", resources: [pods]}]', {}, 'Metadata'],
    ['resource name', '- level: Metadata\n  resources: [{group: "", resources: [pods], resourceNames: [web]}]', {}, 'Metadata'],
    ['other resource name', '- level: Metadata\n  resources: [{group: "", resources: [pods], resourceNames: [db]}]', {}, 'None'],
    ['resource/subresource', '- level: Metadata\n  resources: [{group: "", resources: [pods/log]}]', { subresource: 'log' }, 'Metadata'],
    ['main resource does not match its subresource', '- level: Metadata\n  resources: [{group: "", resources: [pods]}]', { subresource: 'log' }, 'None'],
    ['*/subresource', '- level: Metadata\n  resources: [{group: "", resources: ["*/status"]}]', { subresource: 'status' }, 'Metadata'],
    ['resource/*', '- level: Metadata\n  resources: [{group: "", resources: ["pods/*"]}]', { subresource: 'exec' }, 'Metadata'],
    ['"*" matches subresources too', '- level: Metadata\n  resources: [{group: "", resources: ["*"]}]', { subresource: 'exec' }, 'Metadata'],
    ['nonResourceURLs exact', '- level: Metadata\n  nonResourceURLs: [/healthz]', { isResourceRequest: false, path: '/healthz' }, 'Metadata'],
    ['nonResourceURLs prefix', '- level: Metadata\n  nonResourceURLs: ["/openapi/*"]', { isResourceRequest: false, path: '/openapi/v3' }, 'Metadata'],
    ['nonResourceURLs never match a resource', '- level: Metadata\n  nonResourceURLs: ["*"]', {}, 'None'],
    ['a rule with no selectors matches everything', '- level: Metadata', { isResourceRequest: false, path: '/version' }, 'Metadata'],
  ];
  for (const [name, rules, over, want] of cases) {
    it(name, () => assert.equal(evaluatePolicy(policy(`${HEAD}rules:\n${rules}\n`), req(over)).level, want));
  }

  it('omitStages: the policy\'s and the rule\'s together; omitManagedFields: the rule\'s, else the policy\'s', () => {
    const p = policy(`${HEAD}omitStages: [RequestReceived]\nomitManagedFields: true\nrules:\n- level: Metadata\n  verbs: [get]\n  omitStages: [ResponseStarted]\n  omitManagedFields: false\n- level: Request\n`);
    assert.deepEqual(evaluatePolicy(p, req()), { level: 'Metadata', omitStages: ['RequestReceived', 'ResponseStarted'], omitManagedFields: false });
    assert.deepEqual(evaluatePolicy(p, req({ verb: 'list' })), { level: 'Request', omitStages: ['RequestReceived'], omitManagedFields: true });
  });
});

describe('audit policy: malformed policies are errors naming the field', () => {
  const cases: Array<[string, string, string]> = [
    ['not YAML', 'rules: [', 'failed decoding: '],
    ['no kind', 'apiVersion: audit.k8s.io/v1\nrules: []', "failed decoding: Object 'Kind' is missing in policy"],
    ['another version', 'apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]', 'unknown group version field'],
    ['no rules', `${HEAD}rules: []`, 'loaded illegal policy with 0 rules'],
    ['rules not a list', `${HEAD}rules: x`, 'failed decoding: json: cannot unmarshal string into Go struct field rules of type array'],
    ['users not strings', `${HEAD}rules:\n- level: None\n  users: [1]`, 'failed decoding: json: cannot unmarshal number into Go struct field rules[0].users[0] of type string'],
    ['no level', `${HEAD}rules:\n- users: [a]`, 'rules[0].level: Required value'],
    ['bad level', `${HEAD}rules:\n- level: Everything`, 'rules[0].level: Unsupported value: "Everything": supported values: "None", "Metadata", "Request", "RequestResponse"'],
    ['bad stage', `${HEAD}omitStages: [Done]\nrules: [{level: None}]`, 'omitStages[0]: Invalid value: "Done": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic'],
    ['URL without slash', `${HEAD}rules:\n- level: None\n  nonResourceURLs: [healthz]`, `rules[0].nonResourceURLs[0]: Invalid value: "healthz": non-resource URL rules must begin with a '/' character`],
    ['wildcard inside', `${HEAD}rules:\n- level: None\n  nonResourceURLs: ["/a*/b"]`, `rules[0].nonResourceURLs[0]: Invalid value: "/a*/b": non-resource URL wildcards '*' must be the final character of the rule`],
    ['URLs and resources', `${HEAD}rules:\n- level: None\n  nonResourceURLs: [/a]\n  namespaces: [x]`, 'rules[0].nonResourceURLs: Invalid value: ["/a"]: rules cannot apply to both regular resources and non-resource URLs'],
    ['resourceNames alone', `${HEAD}rules:\n- level: None\n  resources: [{group: "", resourceNames: [a]}]`, 'rules[0].resources.resourceNames: Invalid value: ["a"]: using resourceNames requires at least one resource'],
    ['bad group', `${HEAD}rules:\n- level: None\n  resources: [{group: Apps}]`, 'rules[0].resources.group: Invalid value: "Apps": a lowercase RFC 1123 subdomain'],
    ['two errors', `${HEAD}rules:\n- level: X\n- {}`, '[rules[0].level: Unsupported value: "X": supported values: "None", "Metadata", "Request", "RequestResponse", rules[1].level: Required value]'],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => {
      const p = parsePolicy(text);
      assert.equal(p.ok, false);
      if (!p.ok) assert.ok(p.error.startsWith(want), `${p.error}\n  does not start with\n${want}`);
    });
  }

  it('names the file, as kube-apiserver\'s LoadPolicyFromFile', () => {
    const p = policyFromFile('/etc/audit.yaml', `${HEAD}rules:\n- level: Loud`);
    assert.ok(!p.ok && p.error.endsWith(': from file /etc/audit.yaml'), JSON.stringify(p));
  });

  it('unknown fields are a warning (kube falls back to lenient decoding)', () => {
    const p = parsePolicy(`${HEAD}rules:\n- level: None\n  verb: [get]\n`);
    assert.ok(p.ok);
    assert.deepEqual(p.warnings, ['Audit policy contains errors, falling back to lenient decoding: strict decoding error: unknown field "rules[0].verb"']);
  });

  it('JSON is YAML too', () => {
    assert.ok(parsePolicy('{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"Metadata"}]}').ok);
  });
});
