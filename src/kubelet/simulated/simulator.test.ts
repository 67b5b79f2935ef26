// The parts of the Simulator that need no server: node naming and checks, and the slim pod cache
// keeping everything the status code reads (the rest is test/integration/simulate-nodes.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types.ts';
import { ApiClient } from '../../client/client.ts';
import { simulatedPodStatus } from './pod-view.ts';
import { Simulator, slimPod } from './simulator.ts';
import { SimulateConfigError } from './spec.ts';

const client = new ApiClient({ server: 'https://127.0.0.1:1', token: 't' });

describe('Simulator', () => {
  it('names nodes with a zero-padded index, or as given', () => {
    const cases: Array<[ConstructorParameters<typeof Simulator>[0], string[]]> = [
      [{ client, nodes: 1 }, ['sim-0']],
      [{ client, nodes: 3, namePrefix: 'n' }, ['n0', 'n1', 'n2']],
      [{ client, nodes: 11 }, ['sim-00', 'sim-01', 'sim-02', 'sim-03', 'sim-04', 'sim-05', 'sim-06', 'sim-07', 'sim-08', 'sim-09', 'sim-10']],
      [{ client, nodes: ['a', 'b'] }, ['a', 'b']],
    ];
    for (const [o, want] of cases) assert.deepEqual(new Simulator(o).nodeNames, want);
  });

  it('refuses duplicate names, too many nodes and bad capacity', () => {
    assert.throws(() => new Simulator({ client, nodes: ['a', 'a'] }), SimulateConfigError);
    assert.throws(() => new Simulator({ client, nodes: 20_000 }), SimulateConfigError);
    assert.throws(() => new Simulator({ client, nodes: 1, spec: { capacity: { memory: 'much' } } }), SimulateConfigError);
  });
});

describe('slimPod', () => {
  const full: Pod = {
    metadata: {
      name: 'web',
      namespace: 'prod',
      uid: 'u1',
      resourceVersion: '42',
      labels: { app: 'web' },
      annotations: { 'simulate.tinykube.io/exit-after': '5s', 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(2000) },
      deletionTimestamp: '2026-01-01T00:00:00Z',
      deletionGracePeriodSeconds: 30,
    },
    spec: {
      nodeName: 'sim-1',
      restartPolicy: 'OnFailure',
      initContainers: [{ name: 'init', image: 'busybox', command: ['true'], resources: { requests: { cpu: '1' } } }],
      containers: [{ name: 'app', image: 'nginx:1.27', env: [{ name: 'A', value: 'b' }], resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '250m', memory: '64Mi' } } }],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
    status: {
      phase: 'Running',
      podIP: '100.64.1.9',
      startTime: '2026-01-01T00:00:00Z',
      conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-12-31T23:59:00Z' }, { type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'app', image: 'nginx', imageID: 'x', ready: true, restartCount: 3, state: { running: { startedAt: '2026-01-01T00:00:01Z' } } }],
    },
  };

  it('keeps what the simulator reads and drops the rest', () => {
    const s = slimPod(full);
    assert.deepEqual(s.metadata, { name: 'web', namespace: 'prod', uid: 'u1', resourceVersion: '42', deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30, annotations: { 'simulate.tinykube.io/exit-after': '5s' } });
    assert.deepEqual(s.spec?.containers, [{ name: 'app', image: 'nginx:1.27', resources: full.spec!.containers[0].resources }]);
    assert.equal(s.spec?.restartPolicy, 'OnFailure');
    assert.equal(s.spec?.volumes, undefined);
    assert.deepEqual(s.status?.conditions?.map((c) => c.type), ['PodScheduled']);
    assert.equal(s.status?.containerStatuses?.[0]?.restartCount, 3);
    assert.ok(JSON.stringify(s).length < JSON.stringify(full).length / 3);
  });

  it('gives the same status as the full pod', () => {
    const run = { startedAt: Date.parse('2026-01-01T00:00:05Z'), restartCount: 0 };
    const ips = { podIP: '100.64.1.9', hostIP: '198.18.0.2' };
    const now = Date.parse('2026-01-01T00:00:06Z');
    const pending: Pod = { ...full, metadata: { ...full.metadata, deletionTimestamp: undefined }, status: { phase: 'Pending', conditions: [full.status!.conditions![0]] } };
    assert.deepEqual(simulatedPodStatus(slimPod(pending), run, ips, now), simulatedPodStatus(pending, run, ips, now));
  });
});
