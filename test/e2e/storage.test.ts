// Storage end to end on `tinykube up`: real containers, the real kubectl, the built-in local-path
// class. What issue 15 asks a user to be able to do: a claim on the default class whose data outlives
// its pod; Delete removing the directory and Retain keeping it (the volume Released); a StatefulSet
// whose members keep their own claims across `kubectl delete pod`; a generic ephemeral volume made and
// removed with its pod; downwardAPI files following `kubectl label`; a projected volume of a secret, a
// configMap and the pod's namespace; subPath and subPathExpr mounts of a claim. (A subPath escaping
// its volume through a symlink is refused in agent-pods.test.ts.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, type Cluster, untilValue } from './harness.ts';

const node = `storage-${process.pid}`;
let c: Cluster;
let storageRoot: string;

/** untilValue on this file's cluster. */
const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 90_000): Promise<T> => untilValue(c, what, fn, ms);

const apply = async (name: string, yaml: string) => c.k('apply', '-f', await c.writeFile(name, yaml));
const jsonpath = (kind: string, name: string, expr: string) => c.k('get', kind, name, '-o', `jsonpath=${expr}`);

function pod(name: string, claim: string, command: string, extra = ''): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", ${JSON.stringify(command)}]
    volumeMounts: [{name: data, mountPath: /data}${extra}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: ${claim}}
`;
}

describe('Storage on tinykube up', () => {
  before(async () => {
    c = await startCluster({ command: 'up', args: ['--name', node] });
    storageRoot = path.join(c.dataDir, 'agent', 'storage');
  });
  after(async () => {
    await c?.stop();
  });

  it('serves local-path as the default class', async () => {
    const sc = await c.k('get', 'storageclass');
    assert.match(sc, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\n/);
    assert.match(sc, /\nlocal-path \(default\)\s+tinykube\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+true\s+\S+\n/);
    assert.equal(await jsonpath('node', node, `{.metadata.annotations.local-path\\.tinykube\\.io/storage-root}`), storageRoot);
  });

  it('keeps a claim\'s data across pods, and Delete removes its directory with the claim', async () => {
    await apply('data.yaml', `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
`);
    // WaitForFirstConsumer: nothing is provisioned before a pod uses the claim.
    await until('WaitForFirstConsumer event', async () => /WaitForFirstConsumer\s+.*waiting for first consumer to be created before binding/.test(await c.k('describe', 'pvc', 'data')));
    assert.equal(await jsonpath('pvc', 'data', '{.status.phase}'), 'Pending');
    await apply('writer.yaml', pod('writer', 'data', 'echo kept-across-pods > /data/hello && exec sleep 3600'));
    await c.k('wait', '--for=condition=Ready', 'pod/writer', '--timeout=90s');
    const pv = await jsonpath('pvc', 'data', '{.spec.volumeName}');
    const uid = await jsonpath('pvc', 'data', '{.metadata.uid}');
    assert.equal(pv, `pvc-${uid}`);
    assert.match(await c.k('get', 'pvc', 'data', '--no-headers'), new RegExp(`^data\\s+Bound\\s+${pv}\\s+64Mi\\s+RWO\\s+local-path\\s+<unset>\\s+\\S+\\n$`));
    assert.match(await c.k('get', 'pv', pv, '--no-headers'), new RegExp(`^${pv}\\s+64Mi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+local-path\\s+<unset>\\s+\\S+\\n$`));
    const dir = await jsonpath('pv', pv, '{.spec.hostPath.path}');
    assert.equal(dir, path.join(storageRoot, `pvc-${uid}_default_data`));
    assert.equal(readFileSync(path.join(dir, 'hello'), 'utf8'), 'kept-across-pods\n');
    assert.equal(await jsonpath('pv', pv, '{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}'), node);

    // The class allows expansion: the claim grows in place (a directory needs no file-system resize).
    await c.k('patch', 'pvc', 'data', '-p', '{"spec":{"resources":{"requests":{"storage":"128Mi"}}}}');
    await until('the claim resized', async () => (await jsonpath('pvc', 'data', '{.status.capacity.storage}')) === '128Mi');
    assert.equal(await jsonpath('pv', pv, '{.spec.capacity.storage}'), '128Mi');
    assert.equal(await jsonpath('pvc', 'data', '{.status.allocatedResources.storage}|{.status.allocatedResourceStatuses}'), '128Mi|');
    await until('VolumeResizeSuccessful event', async () => /VolumeResizeSuccessful\s+.*Resize volume succeeded/.test(await c.k('describe', 'pvc', 'data')));
    const shrink = await c.kubectl(['patch', 'pvc', 'data', '-p', '{"spec":{"resources":{"requests":{"storage":"64Mi"}}}}']);
    assert.equal(shrink.code, 1);
    assert.match(shrink.stderr, /spec\.resources\.requests\.storage: Forbidden: field can not be less than previous value/);

    await c.k('delete', 'pod', 'writer', '--wait=true');
    await apply('reader.yaml', pod('reader', 'data', 'exec sleep 3600'));
    await c.k('wait', '--for=condition=Ready', 'pod/reader', '--timeout=90s');
    assert.equal(await c.k('exec', 'reader', '--', 'cat', '/data/hello'), 'kept-across-pods\n');

    // In use: the claim waits for its pod (pvc-protection), then goes, and its volume and directory with it.
    await c.k('delete', 'pvc', 'data', '--wait=false');
    assert.match(await c.k('get', 'pvc', 'data', '--no-headers'), /^data\s+Terminating\s/);
    await c.k('delete', 'pod', 'reader', '--wait=true');
    await until('the claim, its volume and its directory gone', async () => {
      const left = await c.kubectl(['get', 'pv', pv]);
      return left.code !== 0 && /NotFound/.test(left.stderr) && !existsSync(dir);
    });
  });

  it('Retain keeps the volume Released with its data after the claim is deleted', async () => {
    await apply('keep.yaml', `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: keep}
provisioner: tinykube.io/local-path
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: precious}
spec:
  storageClassName: keep
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
`);
    await apply('keeper.yaml', pod('keeper', 'precious', 'echo still-here > /data/f && exec sleep 3600'));
    await c.k('wait', '--for=condition=Ready', 'pod/keeper', '--timeout=90s');
    const pv = await jsonpath('pvc', 'precious', '{.spec.volumeName}');
    const dir = await jsonpath('pv', pv, '{.spec.hostPath.path}');
    // This class does not allow expansion.
    const grow = await c.kubectl(['patch', 'pvc', 'precious', '-p', '{"spec":{"resources":{"requests":{"storage":"32Mi"}}}}']);
    assert.equal(grow.code, 1);
    assert.match(grow.stderr, /persistentvolumeclaims "precious" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize/);
    await c.k('delete', 'pod', 'keeper', '--wait=true');
    await c.k('delete', 'pvc', 'precious', '--wait=true');
    await until('the volume Released', async () => (await jsonpath('pv', pv, '{.status.phase}')) === 'Released');
    assert.match(await c.k('get', 'pv', pv, '--no-headers'), new RegExp(`^${pv}\\s+16Mi\\s+RWO\\s+Retain\\s+Released\\s+default/precious\\s+keep\\s+`));
    assert.equal(readFileSync(path.join(dir, 'f'), 'utf8'), 'still-here\n');
    // The administrator's to remove: deleting the PV object leaves the directory (no deleter runs for Retain).
    await c.k('delete', 'pv', pv, '--wait=true');
    assert.ok(existsSync(path.join(dir, 'f')));
  });

  it('gives each StatefulSet member its own claim, kept across `kubectl delete pod`', async () => {
    await apply('web.yaml', `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox
        imagePullPolicy: IfNotPresent
        env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        # The first start writes who it is and when; later starts only read it.
        command: ["sh", "-c", "[ -f /data/first ] || echo $POD-$(date +%s)-$RANDOM > /data/first; exec sleep 3600"]
        volumeMounts: [{name: data, mountPath: /data}, {name: data, mountPath: /mine, subPathExpr: $(POD)}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 32Mi}}
`);
    await until('both members Ready', async () => (await jsonpath('sts', 'web', '{.status.readyReplicas}')) === '2');
    const claims = await c.k('get', 'pvc', 'data-web-0', 'data-web-1', '--no-headers');
    assert.match(claims, /^data-web-0\s+Bound\s+pvc-\S+\s+32Mi\s+RWO\s+local-path\s/m);
    assert.match(claims, /^data-web-1\s+Bound\s+pvc-\S+\s+32Mi\s+RWO\s+local-path\s/m);
    const first = await c.k('exec', 'web-0', '--', 'cat', '/data/first');
    assert.match(first, /^web-0-\d+-\d+\n$/);
    assert.match(await c.k('exec', 'web-1', '--', 'cat', '/data/first'), /^web-1-\d+-\d+\n$/);
    // subPathExpr: the member's own directory inside its claim.
    await c.k('exec', 'web-0', '--', 'sh', '-c', 'echo sub > /mine/x');
    assert.equal(await c.k('exec', 'web-0', '--', 'cat', '/data/web-0/x'), 'sub\n');

    const uid = await jsonpath('pod', 'web-0', '{.metadata.uid}');
    await c.k('delete', 'pod', 'web-0', '--wait=true');
    await until('web-0 back and Ready', async () => {
      const now = await c.kubectl(['get', 'pod', 'web-0', '-o', 'jsonpath={.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}']);
      return now.code === 0 && !now.stdout.startsWith(uid) && now.stdout.endsWith(' True');
    });
    assert.equal(await c.k('exec', 'web-0', '--', 'cat', '/data/first'), first, 'the new web-0 sees what the first one wrote');
    assert.equal(await c.k('exec', 'web-0', '--', 'cat', '/mine/x'), 'sub\n');
    await c.k('delete', 'sts', 'web', '--wait=true');
  });

  it('makes a generic ephemeral volume\'s claim with its pod and removes it with the pod', async () => {
    await apply('scratch.yaml', `apiVersion: v1
kind: Pod
metadata: {name: scratch}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo tmp > /scratch/f && exec sleep 3600"]
    volumeMounts: [{name: cache, mountPath: /scratch}]
  volumes:
  - name: cache
    ephemeral:
      volumeClaimTemplate:
        metadata: {labels: {kind: scratch}}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 8Mi}}
`);
    await c.k('wait', '--for=condition=Ready', 'pod/scratch', '--timeout=90s');
    assert.equal(await c.k('exec', 'scratch', '--', 'cat', '/scratch/f'), 'tmp\n');
    assert.equal(await jsonpath('pvc', 'scratch-cache', '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.status.phase}/{.metadata.labels.kind}'), 'Pod/scratch/Bound/scratch');
    const pv = await jsonpath('pvc', 'scratch-cache', '{.spec.volumeName}');
    await c.k('delete', 'pod', 'scratch', '--wait=true');
    await until('the ephemeral claim and its volume gone with the pod', async () => {
      const claim = await c.kubectl(['get', 'pvc', 'scratch-cache']);
      const vol = await c.kubectl(['get', 'pv', pv]);
      return claim.code !== 0 && vol.code !== 0;
    });
  });

  it('keeps downwardAPI files in step with `kubectl label`, and projects a secret, a configMap and the namespace', async () => {
    await apply('projected.yaml', `apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: Pod
metadata:
  name: info
  labels: {tier: one}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: podinfo, mountPath: /etc/podinfo}, {name: all, mountPath: /etc/all}]
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
  - name: all
    projected:
      sources:
      - secret: {name: creds, items: [{key: password, path: secret/password}]}
      - configMap: {name: settings}
      - downwardAPI: {items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]}
`);
    await c.k('wait', '--for=condition=Ready', 'pod/info', '--timeout=90s');
    assert.equal(await c.k('exec', 'info', '--', 'cat', '/etc/podinfo/labels'), 'tier="one"');
    assert.equal(await c.k('exec', 'info', '--', 'cat', '/etc/podinfo/mem'), '64');
    assert.equal(await c.k('exec', 'info', '--', 'cat', '/etc/all/secret/password'), 's3cret');
    assert.equal(await c.k('exec', 'info', '--', 'cat', '/etc/all/mode'), 'fast');
    assert.equal(await c.k('exec', 'info', '--', 'cat', '/etc/all/namespace'), 'default');
    await c.k('label', 'pod', 'info', 'tier=two', '--overwrite');
    await until('the labels file rewritten', async () => (await c.k('exec', 'info', '--', 'cat', '/etc/podinfo/labels')) === 'tier="two"', 30_000);
    await c.k('delete', 'pod', 'info', '--wait=false');
  });

  it('evicts a pod whose emptyDir outgrows its sizeLimit, and reports volume usage in the node\'s Summary', async () => {
    await apply('hog.yaml', `apiVersion: v1
kind: Pod
metadata: {name: disk-hog}
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "dd if=/dev/zero of=/scratch/big bs=1M count=4 && exec sleep 3600"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes:
  - name: scratch
    emptyDir: {sizeLimit: 1Mi}
`);
    const status = await until('the pod evicted', async () => {
      const s = await jsonpath('pod', 'disk-hog', '{.status.phase}|{.status.reason}|{.status.message}');
      return s.startsWith('Failed|Evicted|') ? s : undefined;
    }, 60_000);
    assert.equal(status, 'Failed|Evicted|Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
    assert.match(await c.k('describe', 'pod', 'disk-hog'), /Warning\s+Evicted\s+.*Usage of EmptyDir volume "scratch" exceeds the limit "1Mi"\./);
    await c.k('delete', 'pod', 'disk-hog', '--wait=true');

    await apply('usage.yaml', `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: measured}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
---
${pod('measurer', 'measured', 'dd if=/dev/zero of=/data/f bs=1M count=2 && exec sleep 3600')}`);
    await c.k('wait', '--for=condition=Ready', 'pod/measurer', '--timeout=90s');
    const volume = await until('the claim\'s usage in the Summary', async () => {
      const summary = JSON.parse(await c.k('get', '--raw', `/api/v1/nodes/${node}/proxy/stats/summary`)) as { pods?: { podRef: { name: string }; volume?: { name: string; usedBytes?: number; pvcRef?: { name: string; namespace: string } }[] }[] };
      const v = summary.pods?.find((p) => p.podRef.name === 'measurer')?.volume?.find((x) => x.name === 'data');
      return v && (v.usedBytes ?? 0) >= 2 * 1024 * 1024 ? v : undefined;
    }, 90_000);
    assert.deepEqual(volume.pvcRef, { name: 'measured', namespace: 'default' });
    await c.k('delete', 'pod', 'measurer', '--wait=false');
  });
});
