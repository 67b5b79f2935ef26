// The real kubectl's `taint node` against an in-process API server, on a node that already carries
// taints the node lifecycle controller sets (two with one key, different effects). kubectl sends
// the whole new list in a strategic merge patch; NodeSpec.taints has no patch merge key in
// Kubernetes, so the list is replaced (it used to be merged by key: "Duplicate value").

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import type { Node } from '../../src/api/types.ts';

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

async function taints(name: string): Promise<{ key: string; value?: string; effect: string }[]> {
  const node = (await cp.registry.store('nodes').get(undefined, name)) as Node;
  // Sorted: the order is kubectl's (it puts added taints first); what matters is each taint once.
  return (node.spec?.taints ?? []).map(({ key, value, effect }) => ({ key, effect, ...(value ? { value } : {}) })).sort((a, b) => `${a.key}:${a.effect}`.localeCompare(`${b.key}:${b.effect}`));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-taint-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  const now = new Date().toISOString();
  await cp.registry.store('nodes').create(undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1' },
    spec: {
      taints: [
        { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: now },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: now },
      ],
    },
  } as Node);
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl taint node', () => {
  it('adds a taint beside the existing ones', async () => {
    const r = await kubectl(['taint', 'node', 'n1', 'dedicated=gpu:NoSchedule']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'node/n1 tainted');
    assert.deepEqual(await taints('n1'), [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    ]);
  });

  it('removes one of two taints that share a key', async () => {
    const r = await kubectl(['taint', 'node', 'n1', 'node.kubernetes.io/unreachable:NoSchedule-']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'node/n1 untainted');
    assert.deepEqual(await taints('n1'), [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
    ]);
  });

  it('overwrites a taint with --overwrite', async () => {
    const r = await kubectl(['taint', 'node', 'n1', 'dedicated=cpu:NoSchedule', '--overwrite']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await taints('n1'), [
      { key: 'dedicated', value: 'cpu', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
    ]);
  });
});
