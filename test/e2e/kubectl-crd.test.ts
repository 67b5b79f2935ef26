// CustomResourceDefinitions with the real kubectl against `tinykube server`: the documentation's
// CronTab (validation, defaulting, a CEL rule, printer columns, status and scale subresources) and
// cert-manager's Certificate, from `kubectl apply` of the definition to its deletion taking its
// custom resources with it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startCluster, kubectlBin, type Cluster } from './harness.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const examples = path.join(root, 'examples');
const fixtures = path.join(root, 'test', 'fixtures', 'crd');
let c: Cluster;

before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const rows = (out: string) => out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));

test('the CronTab definition is established and its kind is served under every name', async () => {
  assert.equal(await c.k('apply', '-f', path.join(examples, 'crontab-crd.yaml')), 'customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created\n');
  assert.equal(await c.k('wait', '--for', 'condition=established', '--timeout=10s', 'crd/crontabs.stable.example.com'), 'customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com condition met\n');
  const conds = JSON.parse(await c.k('get', 'crd', 'crontabs.stable.example.com', '-o', 'jsonpath={.status.conditions}')) as Array<{ type: string; status: string; reason: string }>;
  assert.deepEqual(conds.map((x) => [x.type, x.status, x.reason]), [['NamesAccepted', 'True', 'NoConflicts'], ['Established', 'True', 'InitialNamesAccepted']]);
  assert.match(await c.k('get', 'crd'), /^NAME\s+CREATED AT\ncrontabs\.stable\.example\.com\s+\d{4}-\d\d-\d\dT/);
  assert.equal(await c.k('apply', '-f', path.join(examples, 'crontab.yaml')), 'crontab.stable.example.com/my-new-cron-object created\n');
  for (const name of ['crontab', 'crontabs', 'ct', 'crontabs.stable.example.com', 'crontab.v1.stable.example.com']) {
    const r = rows(await c.k('get', name));
    assert.deepEqual(r[0], ['NAME', 'SPEC', 'REPLICAS', 'AGE'], name);
    assert.deepEqual(r[1]!.slice(0, 3), ['my-new-cron-object', '* * * * */5', '1'], name);
    assert.match(r[1]![3]!, /^\d+s$/, name);
  }
  // The category brings it into `get all`; -o wide adds the priority-1 column.
  assert.match(await c.k('get', 'all'), /crontab\.stable\.example\.com\/my-new-cron-object/);
  assert.deepEqual(rows(await c.k('get', 'ct', '-o', 'wide'))[0], ['NAME', 'SPEC', 'REPLICAS', 'IMAGE', 'AGE']);
  // Defaults of the schema are stored.
  assert.equal(await c.k('get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas} {.spec.minReplicas} {.metadata.generation}'), '1 1 1');
});

test('kubectl explain reads the schema', async () => {
  const out = await c.k('explain', 'crontab.spec');
  assert.match(out, /KIND:\s+CronTab/);
  assert.match(out, /VERSION:\s+v1/);
  for (const f of ['cronSpec\t<string>', 'image\t<string>', 'replicas\t<integer>', 'minReplicas\t<integer>']) assert.ok(out.includes(f), f);
});

test('custom resources that break the schema are refused naming each field', async () => {
  const bad = await c.kubectl(['apply', '-f', path.join(fixtures, 'crontab-invalid.yaml')]);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    'The CronTab "my-bad-cron-object" is invalid: \n' +
      `* spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'\n` +
      '* spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10\n',
  );
  const cel = await c.kubectl(['apply', '-f', path.join(fixtures, 'crontab-cel.yaml')]);
  assert.equal(cel.stderr, 'The CronTab "too-few" is invalid: spec: Invalid value: "object": replicas should be greater than or equal to minReplicas\n');
  const unknown = await c.kubectl(['apply', '-f', path.join(fixtures, 'crontab-unknown-field.yaml')]);
  assert.equal(unknown.stderr, `Error from server (BadRequest): error when creating "${path.join(fixtures, 'crontab-unknown-field.yaml')}": CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.imagee"\n`);
  // Nothing was stored.
  assert.deepEqual(rows(await c.k('get', 'ct', '-o', 'name')), [['crontab.stable.example.com/my-new-cron-object']]);
});

test('apply round trips, status cannot change spec, scale goes through the scale subresource', async () => {
  const changed = (await import('node:fs/promises')).readFile(path.join(examples, 'crontab.yaml'), 'utf8').then((t) => t.replace('my-awesome-cron-image', 'my-other-image'));
  assert.equal(await c.k('apply', '-f', await c.writeFile('crontab2.yaml', await changed)), 'crontab.stable.example.com/my-new-cron-object configured\n');
  assert.equal(await c.k('apply', '-f', path.join(examples, 'crontab.yaml')), 'crontab.stable.example.com/my-new-cron-object configured\n');
  assert.equal(await c.k('apply', '-f', path.join(examples, 'crontab.yaml')), 'crontab.stable.example.com/my-new-cron-object unchanged\n');
  await c.k('patch', 'ct', 'my-new-cron-object', '--subresource=status', '--type=merge', '-p', '{"spec":{"replicas":5},"status":{"replicas":2,"labelSelector":"app=cron"}}');
  assert.equal(await c.k('get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas} {.status.replicas}'), '1 2');
  // A main-resource update cannot change status.
  await c.k('patch', 'ct', 'my-new-cron-object', '--type=merge', '-p', '{"status":{"replicas":9}}');
  assert.equal(await c.k('get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.status.replicas}'), '2');
  assert.equal(await c.k('scale', 'ct', 'my-new-cron-object', '--replicas=3'), 'crontab.stable.example.com/my-new-cron-object scaled\n');
  assert.equal(await c.k('get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}'), '3 4');
  const scale = JSON.parse(await c.k('get', '--raw', '/apis/stable.example.com/v1/namespaces/default/crontabs/my-new-cron-object/scale')) as { kind: string; spec: { replicas: number }; status: { replicas: number; selector: string } };
  assert.deepEqual([scale.kind, scale.spec.replicas, scale.status.replicas, scale.status.selector], ['Scale', 3, 2, 'app=cron']);
  const tooMany = await c.kubectl(['scale', 'ct', 'my-new-cron-object', '--replicas=20']);
  assert.match(tooMany.stderr, /spec\.replicas: Invalid value: 20: spec\.replicas in body should be less than or equal to 10/);
  const smp = await c.kubectl(['patch', 'ct', 'my-new-cron-object', '--type=strategic', '-p', '{"spec":{"image":"x"}}']);
  assert.match(smp.stderr, /the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
  assert.match(await c.k('apply', '--server-side', '-f', await c.writeFile('ssa.yaml', 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: applied\nspec:\n  image: ssa\n')), /crontab\.stable\.example\.com\/applied serverside-applied/);
});

test('kubectl get -w sees custom resources change', async () => {
  const w = spawn(kubectlBin, ['get', 'ct', '--watch-only', '--output-watch-events'], { env: { ...process.env, KUBECONFIG: c.kubeconfig } });
  let out = '';
  let timer: NodeJS.Timeout | undefined;
  const seen = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no watch event: ${out}`)), 15_000);
    w.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/MODIFIED\s+applied\s/.test(out)) resolve();
    });
  });
  seen.catch(() => undefined);
  try {
    // The watch is open once kubectl has listed; patch until it sees a change.
    for (let i = 0; !out.includes('MODIFIED'); i++) {
      await c.k('patch', 'ct', 'applied', '--type=merge', '-p', JSON.stringify({ spec: { cronSpec: `${i} * * * *` } }));
      await Promise.race([seen, new Promise((r) => setTimeout(r, 300))]);
      if (i > 30) break;
    }
    await seen;
  } finally {
    clearTimeout(timer);
    w.kill();
  }
});

test('a real-world CRD: cert-manager Certificate', async () => {
  await c.k('apply', '-f', path.join(fixtures, 'certificate-crd.yaml'));
  await c.k('wait', '--for', 'condition=established', '--timeout=10s', 'crd/certificates.cert-manager.io');
  assert.equal(await c.k('apply', '-f', path.join(fixtures, 'certificate.yaml')), 'certificate.cert-manager.io/example-com created\n');
  await c.k('patch', 'certificate', 'example-com', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }));
  const r = rows(await c.k('get', 'cert', '-o', 'wide'));
  assert.deepEqual(r[0], ['NAME', 'READY', 'SECRET', 'ISSUER', 'STATUS', 'AGE']);
  assert.deepEqual(r[1]!.slice(0, 5), ['example-com', 'True', 'example-com-tls', 'ca-issuer', 'Certificate is up to date and has not expired']);
  const bad = await c.kubectl(['apply', '-f', path.join(fixtures, 'certificate-invalid.yaml')]);
  assert.equal(
    bad.stderr,
    'The Certificate "broken" is invalid: \n' +
      '* spec.dnsNames: Invalid value: "string": spec.dnsNames in body must be of type array: "string"\n' +
      '* spec.issuerRef.name: Required value\n' +
      '* spec.privateKey.algorithm: Unsupported value: "DSA": supported values: "RSA", "ECDSA", "Ed25519"\n' +
      '* spec.secretName: Required value\n',
  );
  // The list-map conditions merge by type under server-side apply.
  await c.k('get', 'certificates.cert-manager.io', 'example-com');
});

test('malformed definitions are refused with the fields named', async () => {
  const crd = (name: string, body: string) => `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${name}\nspec:\n${body}`;
  const wrongName = await c.kubectl(['apply', '-f', '-'], { stdin: crd('widgets.wrong.io', '  group: example.io\n  scope: Namespaced\n  names: {plural: widgets, kind: Widget}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object}}\n') });
  assert.match(wrongName.stderr, /metadata\.name: Invalid value: "widgets\.wrong\.io": must be spec\.names\.plural\+"\."\+spec\.group/);
  const nonStructural = await c.kubectl(['apply', '-f', '-'], { stdin: crd('widgets.example.io', '  group: example.io\n  scope: Namespaced\n  names: {plural: widgets, kind: Widget}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            properties:\n              size: {type: integer}\n') });
  assert.match(nonStructural.stderr, /properties\[spec\]\.type: Required value: must not be empty for specified object fields/);
  assert.match((await c.kubectl(['get', 'crd', 'widgets.example.io'])).stderr, /NotFound/);
});

test('deleting the definition deletes its custom resources, then itself', async () => {
  assert.equal(await c.k('delete', 'crd', 'crontabs.stable.example.com'), 'customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted\n');
  const res = await c.api('GET', '/apis/stable.example.com/v1/crontabs');
  assert.equal(res.status, 404);
  assert.match((await c.kubectl(['get', 'crd', 'crontabs.stable.example.com'])).stderr, /NotFound/);
  // Made again, it starts empty: the old custom resources went with it.
  await c.k('apply', '-f', path.join(examples, 'crontab-crd.yaml'));
  await c.k('wait', '--for', 'condition=established', '--timeout=10s', 'crd/crontabs.stable.example.com');
  assert.equal(await c.k('get', 'ct', '-A', '-o', 'name'), '');
});
