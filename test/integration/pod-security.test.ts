// Pod Security admission through the real kubectl against an in-process API server: a namespace
// labelled enforce=restricted refuses a privileged pod with kube-apiserver's message, warn=restricted
// admits it with the Warning kubectl prints, a compliant pod passes, a Deployment is only warned
// about, bad labels are refused, and raising a namespace's enforce level names the pods that would
// violate it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;
let cp: ControlPlane;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function manifest(name: string, obj: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(obj));
  return path;
}

const RESTRICTED_VIOLATIONS =
  'allowPrivilegeEscalation != false (container "p" must set securityContext.allowPrivilegeEscalation=false), ' +
  'unrestricted capabilities (container "p" must set securityContext.capabilities.drop=["ALL"]), ' +
  'runAsNonRoot != true (pod or container "p" must set securityContext.runAsNonRoot=true), ' +
  'seccompProfile (pod or container "p" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-psa-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  await ok(['create', 'namespace', 'enforced']);
  await ok(['label', 'namespace', 'enforced', 'pod-security.kubernetes.io/enforce=restricted']);
  await ok(['create', 'namespace', 'warned']);
  await ok(['label', 'namespace', 'warned', 'pod-security.kubernetes.io/warn=restricted']);
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PodSecurity admission', () => {
  it('refuses a privileged pod in an enforce=restricted namespace with kube-apiserver\'s message', async () => {
    const r = await kubectl(['run', 'p', '--image=busybox', '--privileged', '-n', 'enforced']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `Error from server (Forbidden): pods "p" is forbidden: violates PodSecurity "restricted:latest": privileged (container "p" must not set securityContext.privileged=true), ${RESTRICTED_VIOLATIONS}`,
    );
    const get = await kubectl(['get', 'pod', 'p', '-n', 'enforced']);
    assert.match(get.stderr, /pods "p" not found/);
  });

  it('admits a pod in a warn=restricted namespace and kubectl prints the warning', async () => {
    const r = await ok(['run', 'p', '--image=busybox', '-n', 'warned']);
    assert.equal(r.stdout.trim(), 'pod/p created');
    assert.equal(r.stderr.trim(), `Warning: would violate PodSecurity "restricted:latest": ${RESTRICTED_VIOLATIONS}`);
  });

  it('admits a pod that meets the restricted level without a warning', async () => {
    const path = manifest('good', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'good', namespace: 'enforced' },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'c', image: 'busybox', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      },
    });
    const r = await ok(['apply', '-f', path]);
    assert.equal(r.stdout.trim(), 'pod/good created');
    assert.equal(r.stderr.trim(), '');
  });

  it('admits a Deployment in an enforce=restricted namespace with a warning (workloads are never refused)', async () => {
    const r = await ok(['create', 'deployment', 'web', '--image=busybox', '-n', 'enforced']);
    assert.equal(r.stdout.trim(), 'deployment.apps/web created');
    assert.equal(
      r.stderr.trim(),
      'Warning: would violate PodSecurity "restricted:latest": ' + RESTRICTED_VIOLATIONS.replaceAll('"p"', '"busybox"'),
    );
  });

  it('refuses a namespace with a bad level label', async () => {
    const r = await kubectl(['label', 'namespace', 'warned', 'pod-security.kubernetes.io/enforce=strict']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'The Namespace "warned" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
  });

  it('warns about existing pods when a namespace\'s enforce level rises', async () => {
    const r = await ok(['label', 'namespace', 'warned', 'pod-security.kubernetes.io/enforce=baseline']);
    assert.equal(r.stdout.trim(), 'namespace/warned labeled');
    assert.equal(r.stderr.trim(), '');
    const raised = await ok(['label', '--overwrite', 'namespace', 'warned', 'pod-security.kubernetes.io/enforce=restricted']);
    assert.equal(raised.stdout.trim(), 'namespace/warned labeled');
    assert.equal(
      raised.stderr.trim(),
      [
        'Warning: existing pods in namespace "warned" violate the new PodSecurity enforce level "restricted:latest"',
        'Warning: p: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
      ].join('\n'),
    );
  });
});
