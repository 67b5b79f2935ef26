import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatus, Pod } from '../../api/types.ts';
import { generatePodStatus, podPhase, type PodView } from './generate.ts';
import { qosClass } from './qos.ts';

const running: ContainerStatus = { name: 'x', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } };
const waiting: ContainerStatus = { name: 'x', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } };
const ok: ContainerStatus = { name: 'x', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } };
const bad: ContainerStatus = { name: 'x', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1 } } };
const crashLoop: ContainerStatus = { name: 'x', image: '', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } };

function pod(restartPolicy: string): Pod {
  return { spec: { restartPolicy, containers: [] } };
}

describe('podPhase', () => {
  const cases: { name: string; policy: string; init?: ContainerStatus[]; app: ContainerStatus[]; want: string }[] = [
    { name: 'all waiting', policy: 'Always', app: [waiting, waiting], want: 'Pending' },
    { name: 'one running one creating', policy: 'Always', app: [running, waiting], want: 'Pending' },
    { name: 'all running', policy: 'Always', app: [running, running], want: 'Running' },
    { name: 'crash loop is running', policy: 'Always', app: [crashLoop], want: 'Running' },
    { name: 'Always, all exited', policy: 'Always', app: [ok, bad], want: 'Running' },
    { name: 'Never, all succeeded', policy: 'Never', app: [ok, ok], want: 'Succeeded' },
    { name: 'Never, one failed', policy: 'Never', app: [ok, bad], want: 'Failed' },
    { name: 'OnFailure, all succeeded', policy: 'OnFailure', app: [ok], want: 'Succeeded' },
    { name: 'OnFailure, failed will restart', policy: 'OnFailure', app: [bad], want: 'Running' },
    { name: 'init pending', policy: 'Always', init: [waiting], app: [waiting], want: 'Pending' },
    { name: 'init failed, Never', policy: 'Never', init: [bad], app: [waiting], want: 'Failed' },
    { name: 'init failed, Always', policy: 'Always', init: [bad], app: [waiting], want: 'Pending' },
    { name: 'init done', policy: 'Always', init: [ok], app: [running], want: 'Running' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(podPhase(pod(c.policy), c.init ?? [], c.app), c.want));
  }
});

describe('qosClass', () => {
  const p = (...res: Record<string, Record<string, string>>[]): Pod => ({ spec: { containers: res.map((r, i) => ({ name: `c${i}`, resources: r })) } });
  const cases: { name: string; pod: Pod; want: string }[] = [
    { name: 'nothing', pod: p({}), want: 'BestEffort' },
    { name: 'limits only (requests default to them)', pod: p({ limits: { cpu: '1', memory: '1Gi' } }), want: 'Guaranteed' },
    { name: 'equal requests and limits', pod: p({ requests: { cpu: '500m', memory: '64Mi' }, limits: { cpu: '0.5', memory: '64Mi' } }), want: 'Guaranteed' },
    { name: 'memory limit only', pod: p({ limits: { memory: '32Mi' } }), want: 'Burstable' },
    { name: 'requests below limits', pod: p({ requests: { cpu: '100m' }, limits: { cpu: '1', memory: '1Gi' } }), want: 'Burstable' },
    { name: 'one guaranteed, one best effort', pod: p({ limits: { cpu: '1', memory: '1Gi' } }, {}), want: 'Burstable' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(qosClass(c.pod), c.want));
});

describe('generatePodStatus: reason and message', () => {
  const view = (terminalPhase?: 'Failed'): PodView => ({ sandboxReady: false, podIPs: [], hostIPs: [], init: new Map(), app: new Map(), ...(terminalPhase ? { terminalPhase } : {}) });
  const rejected: Pod = {
    metadata: { name: 'p', uid: 'u' },
    spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Failed', reason: 'OutOfcpu', message: 'Pod was rejected: no room' },
  };
  it('are kept while the phase they came with lasts', () => {
    const s = generatePodStatus(rejected, view('Failed'), 0);
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, 'OutOfcpu');
    assert.equal(s.message, 'Pod was rejected: no room');
  });
  it('go with a phase change', () => {
    const s = generatePodStatus({ ...rejected, status: { ...rejected.status, phase: 'Pending' } }, view('Failed'), 0);
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, undefined);
    assert.equal(s.message, undefined);
  });
});

describe('generatePodStatus: ephemeral containers', () => {
  const pod: Pod = {
    metadata: { name: 'p', uid: 'u' },
    spec: {
      restartPolicy: 'Always',
      containers: [{ name: 'app', image: 'busybox' }],
      ephemeralContainers: [{ name: 'dbg', image: 'busybox' }, { name: 'done', image: 'busybox' }, { name: 'new', image: 'alpine' }],
    },
  };
  const inst = (id: string, state: 'running' | 'exited', exitCode = 0) => ({
    id, state, image: 'docker.io/library/busybox:latest', imageRef: 'sha256:1', restartCount: 0, createdAt: 1000, startedAt: 2000, finishedAt: state === 'exited' ? 3000 : 0, exitCode, reason: '', message: '',
  });
  const view: PodView = {
    sandboxReady: true,
    podIPs: ['10.42.0.5'],
    hostIPs: [],
    init: new Map(),
    app: new Map([['app', { current: inst('a1', 'running'), ready: true, started: true }]]),
    ephemeral: new Map([
      ['dbg', { current: inst('e1', 'running'), ready: false, started: false }],
      ['done', { current: inst('e2', 'exited', 3), ready: false, started: false }],
    ]),
  };
  it('are reported under ephemeralContainerStatuses, never ready, and count for neither phase nor readiness', () => {
    const s = generatePodStatus(pod, view, 5000);
    assert.equal(s.phase, 'Running');
    assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(s.ephemeralContainerStatuses?.map((e) => [e.name, e.ready, 'started' in e, Object.keys(e.state ?? {})[0], e.state?.terminated?.exitCode]), [
      ['dbg', false, false, 'running', undefined],
      ['done', false, false, 'terminated', 3],
      ['new', false, false, 'waiting', undefined],
    ]);
    assert.equal(s.ephemeralContainerStatuses?.[2].state?.waiting?.reason, 'ContainerCreating');
    assert.equal(s.ephemeralContainerStatuses?.[0].containerID, 'containerd://e1');
  });
  it('are absent from a pod that has none', () => {
    const plain: Pod = { ...pod, spec: { ...pod.spec!, ephemeralContainers: undefined } };
    assert.equal('ephemeralContainerStatuses' in generatePodStatus(plain, { ...view, ephemeral: undefined }, 5000), false);
  });
});
