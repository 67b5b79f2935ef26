import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types.ts';
import { trimPodForCache } from './trim.ts';

test('trimPodForCache keeps what scheduling and the controllers read, drops the rest', () => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'web' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}', keep: 'me' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'o1', controller: true }],
      finalizers: ['f'], deletionTimestamp: '2026-01-01T00:00:00Z',
      managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    },
    spec: {
      nodeName: 'n1', schedulerName: 'default-scheduler', priority: 5, nodeSelector: { disk: 'ssd' },
      tolerations: [{ key: 'k', operator: 'Exists' }], overhead: { cpu: '10m' },
      initContainers: [{ name: 'init', image: 'busybox', restartPolicy: 'Always', command: ['sh'], resources: { requests: { cpu: '1' } } }],
      containers: [{
        name: 'app', image: 'nginx', command: ['nginx'], args: ['-g'], env: [{ name: 'A', value: 'b' }],
        ports: [{ containerPort: 80, hostPort: 8080 }], resources: { requests: { memory: '1Gi' } },
        livenessProbe: { tcpSocket: { port: 80 } }, volumeMounts: [{ name: 'v', mountPath: '/v' }],
      }],
      volumes: [{ name: 'v', emptyDir: {} }],
      ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
    },
    status: {
      phase: 'Running', podIP: '10.0.0.1', startTime: '2026-01-01T00:00:00Z', nominatedNodeName: 'n2',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'app', image: 'nginx', imageID: '', ready: true, restartCount: 2, state: { running: { startedAt: '2026-01-01T00:00:00Z' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', message: 'boom' } } },
        { name: 'side', image: 'nginx', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error', message: 'long text' } } }],
    },
  };
  const before = JSON.stringify(pod);
  const t = trimPodForCache(pod);
  assert.equal(JSON.stringify(pod), before, 'the input is not changed');
  assert.deepEqual(t.metadata, {
    name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'web' }, annotations: { keep: 'me' },
    ownerReferences: pod.metadata!.ownerReferences, finalizers: ['f'], deletionTimestamp: '2026-01-01T00:00:00Z',
  });
  assert.deepEqual(t.spec!.containers, [{ name: 'app', image: 'nginx', resources: { requests: { memory: '1Gi' } }, ports: [{ containerPort: 80, hostPort: 8080 }] }]);
  assert.deepEqual(t.spec!.initContainers, [{ name: 'init', image: 'busybox', resources: { requests: { cpu: '1' } }, restartPolicy: 'Always' }]);
  assert.equal(t.spec!.ephemeralContainers, undefined);
  for (const k of ['nodeName', 'schedulerName', 'priority', 'nodeSelector', 'tolerations', 'overhead', 'volumes'] as const) assert.deepEqual(t.spec![k], pod.spec![k], k);
  assert.deepEqual(t.status, { phase: 'Running', podIP: '10.0.0.1', startTime: '2026-01-01T00:00:00Z', nominatedNodeName: 'n2', conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'app', ready: true, restartCount: 2 }, { name: 'side', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error' } } }] });
  assert.equal(t.apiVersion, 'v1');
});
