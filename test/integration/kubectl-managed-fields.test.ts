// metadata.managedFields as the real kubectl sees them: every write records its manager and an
// Update entry for the fields it set (kubectl-create, -label, -annotate, -patch, -replace, -edit,
// -taint, status writers), server-side apply keeps several managers and reports conflicts with a
// client-side apply, updates the last-applied annotation, and kubectl 1.32 moves client-side-apply
// ownership to server-side apply.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;
let cp: ControlPlane;

function kubectl(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function k(...args: string[]): Promise<string> {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

interface Entry {
  manager: string;
  operation: string;
  subresource?: string;
  fieldsV1: unknown;
}

async function managed(kind: string, name: string): Promise<Entry[]> {
  return JSON.parse(await k('get', kind, name, '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields}')) as Entry[];
}

const summary = (es: Entry[]) => es.map((e) => `${e.manager} ${e.operation}${e.subresource ? `/${e.subresource}` : ''} ${JSON.stringify(e.fieldsV1)}`);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-managed-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cm = (name: string, data: Record<string, string>) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`;

test('create, label, annotate, patch, replace and edit each record their manager', async () => {
  await k('create', '-f', file('mf.yaml', cm('mf', { a: '1', b: '2', keep: '0' })));
  assert.deepEqual(summary(await managed('cm', 'mf')), ['kubectl-create Update {"f:data":{".":{},"f:a":{},"f:b":{},"f:keep":{}}}']);
  await k('label', 'cm', 'mf', 'team=x');
  await k('annotate', 'cm', 'mf', 'note=y');
  await k('patch', 'cm', 'mf', '-p', '{"data":{"c":"3"}}');
  const live = await k('get', 'cm', 'mf', '-o', 'yaml');
  await k('replace', '-f', file('mf2.yaml', live.replace('a: "1"', 'a: "11"')));
  const editor = file('editor.sh', '#!/bin/sh\nsed -i \'s/b: "2"/b: "22"/\' "$1"\n');
  chmodSync(editor, 0o755);
  const edited = await kubectl(['edit', 'cm', 'mf'], { KUBE_EDITOR: editor });
  assert.equal(edited.code, 0, edited.stderr);
  assert.deepEqual(summary(await managed('cm', 'mf')), [
    'kubectl-create Update {"f:data":{".":{},"f:keep":{}}}',
    'kubectl-label Update {"f:metadata":{"f:labels":{".":{},"f:team":{}}}}',
    'kubectl-annotate Update {"f:metadata":{"f:annotations":{".":{},"f:note":{}}}}',
    'kubectl-patch Update {"f:data":{"f:c":{}}}',
    'kubectl-replace Update {"f:data":{"f:a":{}}}',
    'kubectl-edit Update {"f:data":{"f:b":{}}}',
  ]);
  // A write that changes nothing changes no entry (and stores nothing).
  const rv = await k('get', 'cm', 'mf', '-o', 'jsonpath={.metadata.resourceVersion}');
  await k('label', 'cm', 'mf', 'team=x', '--overwrite');
  assert.equal(await k('get', 'cm', 'mf', '-o', 'jsonpath={.metadata.resourceVersion}'), rv);
});

test('taint and status writes record theirs, with the subresource', async () => {
  await cp.registry.store('nodes').create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {} });
  await k('taint', 'node', 'n1', 'dedicated=web:NoSchedule');
  await k('patch', 'node', 'n1', '--subresource=status', '--type=merge', '-p', '{"status":{"capacity":{"cpu":"4"}}}');
  const s = summary(await managed('node', 'n1'));
  assert.ok(s.includes('kubectl-taint Update {"f:spec":{"f:taints":{}}}'), s.join('\n'));
  assert.ok(s.includes('kubectl-patch Update/status {"f:status":{"f:capacity":{".":{},"f:cpu":{}}}}'), s.join('\n'));
});

test('server-side apply conflicts with a client-side apply, and kubectl moves that ownership when it applies server-side', async () => {
  await k('apply', '-f', file('csa.yaml', cm('csa', { a: '1' })));
  assert.deepEqual(summary(await managed('cm', 'csa')).map((e) => e.split(' ').slice(0, 2).join(' ')), ['kubectl-client-side-apply Update']);
  const conflict = await kubectl(['apply', '--server-side', '--field-manager=other', '-f', file('csa2.yaml', cm('csa', { a: '2' }))]);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /^error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1 at \S+: \.data\.a\n/);
  // Forced, the field changes owner.
  await k('apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', file('csa2.yaml', cm('csa', { a: '2' })));
  assert.equal(await k('get', 'cm', 'csa', '-o', 'jsonpath={.data.a}'), '2');
  // The last-applied annotation follows a server-side apply of an object that has one.
  assert.match(await k('get', 'cm', 'csa', '-o', 'jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}'), /"data":\{"a":"2"\}/);

  await k('apply', '-f', file('mig.yaml', cm('mig', { a: '1', b: '2' })));
  assert.match(await k('apply', '--server-side', '-f', file('mig.yaml', cm('mig', { a: '1', b: '2' }))), /configmap\/mig serverside-applied/);
  assert.deepEqual(summary(await managed('cm', 'mig')), [
    'kubectl Apply {"f:data":{"f:a":{},"f:b":{}}}',
    'kubectl-last-applied Apply {"f:metadata":{"f:annotations":{"f:kubectl.kubernetes.io/last-applied-configuration":{}}}}',
  ]);
  // Dropping a field from the server-side configuration now removes it.
  await k('apply', '--server-side', '-f', file('mig.yaml', cm('mig', { a: '1' })));
  assert.equal(await k('get', 'cm', 'mig', '-o', 'jsonpath={.data}'), '{"a":"1"}');
});
