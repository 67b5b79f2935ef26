import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdmissionConfigError, loadAdmissionConfig, parseAdmissionConfig } from './config.ts';
import { parsePodSecurityConfiguration } from './pod-security-config.ts';
import { DEFAULT_POD_SECURITY_CONFIGURATION } from './pod-security.ts';

const PSA = 'apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\n';

describe('PodSecurityConfiguration', () => {
  it('defaults every mode to privileged:latest and lists exemptions', () => {
    const r = parsePodSecurityConfiguration({ apiVersion: 'pod-security.admission.config.k8s.io/v1', kind: 'PodSecurityConfiguration', defaults: { enforce: 'baseline', 'enforce-version': 'v1.29', warn: 'restricted' }, exemptions: { usernames: ['ci'], namespaces: ['kube-system'], runtimeClasses: ['kata'] } });
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      defaults: { enforce: { level: 'baseline', version: { latest: false, minor: 29 } }, warn: { level: 'restricted', version: { latest: true } }, audit: { level: 'privileged', version: { latest: true } } },
      exemptions: { usernames: ['ci'], namespaces: ['kube-system'], runtimeClasses: ['kata'] },
    });
  });

  it('no configuration is kube\'s default', () => {
    const r = parsePodSecurityConfiguration(undefined);
    assert.ok(r.ok);
    assert.equal(r.value, DEFAULT_POD_SECURITY_CONFIGURATION);
  });

  const bad: Array<[string, unknown, string]> = [
    ['a bad level', { defaults: { enforce: 'strict' } }, 'PodSecurity invalid: defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted'],
    ['a bad version', { defaults: { 'audit-version': '1.29' } }, 'PodSecurity invalid: defaults.audit-version: Invalid value: "1.29": must be "latest" or "v1.x"'],
    [
      'several errors, in kube\'s order',
      { defaults: { audit: 'x', warn: 'y' }, exemptions: { usernames: ['a', ''], namespaces: ['Bad_NS', 'ok', 'ok'] } },
      'PodSecurity invalid: [defaults.warn: Invalid value: "y": must be one of privileged, baseline, restricted, defaults.audit: Invalid value: "x": must be one of privileged, baseline, restricted, ' +
        'exemptions.namespaces[0]: Invalid value: "Bad_NS": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\'), ' +
        'exemptions.namespaces[2]: Duplicate value: "ok", exemptions.usernames[1]: Required value]',
    ],
    ['a duplicate runtime class', { exemptions: { runtimeClasses: ['kata', 'kata'] } }, 'PodSecurity invalid: exemptions.runtimeClasses[1]: Duplicate value: "kata"'],
    ['a list that is not one', { exemptions: { usernames: 'ci' } }, 'json: cannot unmarshal string into Go struct field PodSecurityExemptions.exemptions.usernames of type []string'],
    ['a level that is not a string', { defaults: { enforce: 3 } }, 'json: cannot unmarshal number into Go struct field PodSecurityDefaults.defaults.enforce of type string'],
  ];
  for (const [name, fields, want] of bad) {
    it(name, () => {
      const r = parsePodSecurityConfiguration({ apiVersion: 'pod-security.admission.config.k8s.io/v1', kind: 'PodSecurityConfiguration', ...(fields as object) });
      assert.ok(!r.ok);
      assert.equal(r.error, want);
    });
  }

  it('another kind is refused', () => {
    const r = parsePodSecurityConfiguration({ apiVersion: 'v1', kind: 'ConfigMap' });
    assert.ok(!r.ok);
    assert.match(r.error, /^no kind "ConfigMap" is registered for version "\/v1"/);
  });
});

describe('AdmissionConfiguration', () => {
  const files: Record<string, string> = { '/etc/tk/psa.yaml': `${PSA}exemptions:\n  usernames: [from-file]\n` };
  const read = (f: string) => {
    const t = files[f];
    if (t === undefined) throw new Error(`open ${f}: no such file or directory`);
    return t;
  };

  it('an inline configuration', () => {
    const r = parseAdmissionConfig(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: restricted}
    exemptions: {namespaces: [kube-system]}
`, '/etc/tk', read);
    assert.ok(r.ok);
    assert.equal(r.value.podSecurity?.defaults.enforce.level, 'restricted');
    assert.deepEqual(r.value.podSecurity?.exemptions.namespaces, ['kube-system']);
  });

  it('a path relative to the AdmissionConfiguration\'s folder, in JSON', () => {
    const r = parseAdmissionConfig(JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AdmissionConfiguration', plugins: [{ name: 'PodSecurity', path: 'psa.yaml' }] }), '/etc/tk', read);
    assert.ok(r.ok);
    assert.deepEqual(r.value.podSecurity?.exemptions.usernames, ['from-file']);
  });

  it('entries for plugins not enabled, unknown, or taking no configuration are ignored, as kube-apiserver ignores them (their files unread)', () => {
    for (const name of ['EventRateLimit', 'ImagePolicyWebhook', 'NoSuchPlugin', 'NamespaceLifecycle', 'NodeRestriction', '']) {
      const r = parseAdmissionConfig(`apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: "${name}"\n  path: missing.yaml\n- name: PodSecurity\n  path: psa.yaml\n`, '/etc/tk', read);
      assert.ok(r.ok, name);
      assert.deepEqual(r.warnings, [], name);
      assert.deepEqual(r.value.podSecurity?.exemptions.usernames, ['from-file'], name);
    }
  });

  it('an entry for a plugin kube-apiserver enables and configures but tinykube lacks stops the start', () => {
    for (const name of ['ResourceQuota', 'MutatingAdmissionWebhook', 'ValidatingAdmissionWebhook']) {
      const r = parseAdmissionConfig(`apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  path: psa.yaml\n- name: ${name}\n  configuration: {}\n`, '/etc/tk', read);
      assert.ok(!r.ok, name);
      assert.equal(r.error, `plugins[1]: admission plugin "${name}" is enabled by kube-apiserver, which would apply this configuration, but tinykube does not have it; remove the entry`);
    }
  });

  const bad: Array<[string, string, RegExp]> = [
    ['no kind', 'apiVersion: apiserver.config.k8s.io/v1\nplugins: []\n', /^Object 'Kind' is missing in /],
    ['a missing plugin file', 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  path: nope.yaml\n', /^plugins\[0\]\.path: couldn't open admission plugin configuration \/etc\/tk\/nope\.yaml: open/],
    [
      'a bad PodSecurity configuration names the plugin and the field',
      `apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration:\n    ${PSA.trim().replace('\n', '\n    ')}\n    defaults: {warn: loud}\n`,
      /^plugins\[0\]: failed to initialize admission plugin "PodSecurity": PodSecurity invalid: defaults\.warn: Invalid value: "loud": must be one of privileged, baseline, restricted$/,
    ],
    ['plugins not a list', 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins: {name: PodSecurity}\n', /cannot unmarshal object into Go struct field AdmissionConfiguration\.plugins/],
  ];
  for (const [name, text, want] of bad) {
    it(name, () => {
      const r = parseAdmissionConfig(text, '/etc/tk', read);
      assert.ok(!r.ok);
      assert.match(r.error, want);
    });
  }

  it('loadAdmissionConfig names the file in its error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tk-admcfg-'));
    try {
      const file = path.join(dir, 'admission.yaml');
      writeFileSync(file, 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration: {apiVersion: pod-security.admission.config.k8s.io/v1, kind: PodSecurityConfiguration, exemptions: {usernames: [""]}}\n');
      assert.throws(() => loadAdmissionConfig(file), (err: unknown) => {
        assert.ok(err instanceof AdmissionConfigError);
        assert.equal(err.message, `--admission-control-config-file ${file}: plugins[0]: failed to initialize admission plugin "PodSecurity": PodSecurity invalid: exemptions.usernames[0]: Required value`);
        return true;
      });
      assert.throws(() => loadAdmissionConfig(path.join(dir, 'missing.yaml')), /^AdmissionConfigError: unable to read admission control configuration from ".*missing\.yaml" \[/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
