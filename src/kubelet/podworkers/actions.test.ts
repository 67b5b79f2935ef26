// computePodActions, terminalPhase and computeKillPod as tables: a pod, what the runtime holds of it,
// and the actions (written as short lines) a sync must take.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container as SpecContainer, Pod } from '../../api/types.ts';
import type { Container, ContainerState, PodSandbox, SandboxState } from '../runtime/runtime.ts';
import {
  computeKillPod, computePodActions, terminalPhase, type ContainerOutcome, type ContainerRecord, type PodActions, type PodActionsContext,
  type PodRuntimeStatus, type SandboxRecord,
} from './actions.ts';
import { specHash } from './container-config.ts';
import { ANNOTATION_RESTART_COUNT, ANNOTATION_SPEC_HASH, LABEL_CONTAINER_NAME } from './labels.ts';
import { podRuntimeStatus } from './sync.ts';
import { makePod, type PodBuilder } from './testing.ts';

function sandbox(id: string, state: SandboxState = 'ready', attempt = 0): SandboxRecord {
  return { id, state, attempt };
}

/** An instance; `exit` is the exit code the sync read for an ended one. */
function ctr(id: string, state: ContainerState, restartCount = 0, more: Partial<ContainerRecord> = {}): ContainerRecord {
  return { id, state, restartCount, ...more };
}

function exited(id: string, exitCode: number, restartCount = 0): ContainerRecord {
  return ctr(id, 'exited', restartCount, { exitCode });
}

function runtime(sandboxes: SandboxRecord[], containers: Record<string, ContainerRecord[]> = {}): PodRuntimeStatus {
  return { sandboxes, containers: new Map(Object.entries(containers)) };
}

/** The actions as lines, e.g. "sandbox keep s1", "start app #1 Exited backoff". */
function lines(a: PodActions): string[] {
  if (a.kind === 'terminal') return [`terminal ${a.phase} stop [${a.stopSandboxes.join(' ')}]`];
  if (a.kind === 'sandboxLost') return [`sandboxLost${a.kill.length ? ` kill [${a.kill.map((k) => k.id).join(' ')}] stop [${a.stopSandboxes.join(' ')}]` : ''}`];
  const out: string[] = [];
  const sb = a.sandbox;
  if (sb.action === 'keep') out.push(`sandbox keep ${sb.sandbox.id}`);
  else {
    let l = `sandbox create #${sb.attempt} ${sb.reason}`;
    if (sb.kill.length) l += ` kill [${sb.kill.map((k) => k.id).join(' ')}]`;
    if (sb.remove.length) l += ` remove [${sb.remove.map((s) => s.id).join(' ')}]`;
    if (sb.sandboxChanged) l += ' SandboxChanged';
    if (sb.prefetch) l += ` prefetch ${sb.prefetch.container.name}${sb.prefetch.init ? ' (init)' : ''}`;
    out.push(l);
  }
  for (const s of a.steps) {
    const n = s.container.name;
    switch (s.action) {
      case 'start':
        out.push(`start ${n} #${s.restartCount} ${s.reason}${s.backoff ? ' backoff' : ''}`);
        break;
      case 'startCreated':
        out.push(`startCreated ${n} ${s.id}`);
        break;
      case 'startEphemeral':
        out.push(`startEphemeral ${n}${s.target ? ` target ${s.target}` : ''}`);
        break;
      case 'kill':
        out.push(`kill ${n} ${s.id} ${s.reason}: ${s.message}`);
        break;
      case 'keep':
        out.push(`keep ${n} ${s.id}`);
        break;
      case 'done':
        out.push(`done ${n} ${s.id} exit ${s.exitCode}`);
        break;
    }
  }
  if (a.failed) out.push(`failed ${a.failed}`);
  out.push(a.initialized ? 'initialized' : 'initializing');
  return out;
}

const app = (b: PodBuilder) => b.container({ name: 'app' });
const twoApps = (b: PodBuilder) => b.container({ name: 'a' }).container({ name: 'b' });
const inits = (b: PodBuilder) => b.init({ name: 'i1' }).init({ name: 'i2' }).container({ name: 'app' });
/** An app container and the ephemeral containers kubectl debug added (`dbg` targets `app`). */
const debugged = (b: PodBuilder) =>
  b.container({ name: 'app' }).with((p) => {
    p.spec!.ephemeralContainers = [{ name: 'dbg', image: 'busybox', targetContainerName: 'app' }, { name: 'dbg2', image: 'busybox' }];
  });
const hashOf = (pod: Pod, name: string) => specHash(pod.spec!.containers.find((c) => c.name === name)!);

interface Case {
  name: string;
  pod: (b: PodBuilder) => PodBuilder;
  policy?: 'Always' | 'OnFailure' | 'Never';
  rt: (pod: Pod) => PodRuntimeStatus;
  ctx?: PodActionsContext;
  want: string[];
}

const cases: Case[] = [
  // The sandbox.
  {
    name: 'a new pod: a first sandbox, its first image fetched meanwhile, every app container started',
    pod: twoApps,
    rt: () => runtime([]),
    want: ['sandbox create #0 NoSandbox prefetch a', 'start a #0 New', 'start b #0 New', 'initialized'],
  },
  {
    name: 'a new pod with init containers: the first init container only, its image fetched with the sandbox',
    pod: inits,
    rt: () => runtime([]),
    want: ['sandbox create #0 NoSandbox prefetch i1 (init)', 'start i1 #0 New', 'initializing'],
  },
  {
    name: 'a ready sandbox is kept',
    pod: app,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'running')] }),
    want: ['sandbox keep s1', 'keep app c1', 'initialized'],
  },
  {
    name: 'the newest ready sandbox is kept beside an older dead one',
    pod: app,
    rt: () => runtime([sandbox('s2', 'ready', 1), sandbox('s1', 'notready', 0)], { app: [ctr('c1', 'running')] }),
    want: ['sandbox keep s2', 'keep app c1', 'initialized'],
  },
  {
    name: 'a dead sandbox after containers ran: SandboxChanged, the next attempt, every container anew',
    pod: app,
    rt: () => runtime([sandbox('s1', 'notready', 0)], { app: [ctr('c1', 'exited', 3, { exitCode: 137 })] }),
    want: ['sandbox create #1 SandboxNotReady remove [s1] SandboxChanged', 'start app #0 New', 'initialized'],
  },
  {
    name: 'a dead sandbox in which nothing ran: re-created without SandboxChanged (and no prefetch: it is not new)',
    pod: app,
    rt: () => runtime([sandbox('s1', 'notready', 0)]),
    want: ['sandbox create #1 SandboxNotReady remove [s1] prefetch app', 'start app #0 New', 'initialized'],
  },
  {
    name: 'the attempt follows the highest one of the old sandboxes',
    pod: app,
    rt: () => runtime([sandbox('s3', 'notready', 0), sandbox('s2', 'notready', 2)], { app: [exited('c1', 1)] }),
    want: ['sandbox create #3 SandboxNotReady remove [s3 s2] SandboxChanged', 'start app #0 New', 'initialized'],
  },
  {
    name: 'a re-created sandbox starts the init containers over',
    pod: inits,
    rt: () => runtime([sandbox('s1', 'notready')], { i1: [exited('i1a', 0)], i2: [exited('i2a', 0)], app: [ctr('c1', 'running')] }),
    want: ['sandbox create #1 SandboxNotReady kill [c1] remove [s1] SandboxChanged', 'start i1 #0 New', 'initializing'],
  },
  {
    name: 'restartPolicy Never: a lost sandbox after the app containers ran ends them',
    pod: app,
    policy: 'Never',
    rt: () => runtime([sandbox('s1', 'notready')], { app: [exited('c1', 137)] }),
    want: ['sandboxLost'],
  },
  {
    name: 'restartPolicy Never: what still runs in the lost sandbox is killed and the sandbox stopped, nothing new starts',
    pod: app,
    policy: 'Never',
    rt: () => runtime([sandbox('s1', 'notready')], { app: [ctr('c1', 'running')] }),
    want: ['sandboxLost kill [c1] stop [s1]'],
  },
  {
    name: 'restartPolicy Never: a sandbox lost while only init containers ran is re-created',
    pod: inits,
    policy: 'Never',
    rt: () => runtime([sandbox('s1', 'notready')], { i1: [exited('i1a', 0)] }),
    want: ['sandbox create #1 SandboxNotReady remove [s1] SandboxChanged', 'start i1 #0 New', 'initializing'],
  },
  {
    name: 'a terminal pod: its ready sandboxes are stopped, nothing starts',
    pod: app,
    rt: () => runtime([sandbox('s2', 'ready', 1), sandbox('s1', 'notready')], { app: [exited('c1', 0)] }),
    ctx: { terminal: 'Succeeded' },
    want: ['terminal Succeeded stop [s2]'],
  },

  // Init containers, in order.
  {
    name: 'an init container still running: wait',
    pod: inits,
    rt: () => runtime([sandbox('s1')], { i1: [exited('i1a', 0)], i2: [ctr('i2a', 'running')] }),
    want: ['sandbox keep s1', 'initializing'],
  },
  {
    name: 'an init container in an unknown state: wait',
    pod: inits,
    rt: () => runtime([sandbox('s1')], { i1: [ctr('i1a', 'unknown')] }),
    want: ['sandbox keep s1', 'initializing'],
  },
  {
    name: 'the first init container succeeded: the second starts',
    pod: inits,
    rt: () => runtime([sandbox('s1')], { i1: [exited('i1a', 0)] }),
    want: ['sandbox keep s1', 'start i2 #0 New', 'initializing'],
  },
  {
    name: 'an init container created but not started (agent restarted in between): started',
    pod: inits,
    rt: () => runtime([sandbox('s1')], { i1: [ctr('i1a', 'created')] }),
    want: ['sandbox keep s1', 'startCreated i1 i1a', 'initializing'],
  },
  {
    name: 'a failed init container, restartPolicy Never: the pod fails',
    pod: inits,
    policy: 'Never',
    rt: () => runtime([sandbox('s1')], { i1: [exited('i1a', 0)], i2: [exited('i2a', 3)] }),
    want: ['sandbox keep s1', 'failed InitContainerFailed', 'initializing'],
  },
  {
    name: 'a failed init container, restartPolicy OnFailure: restarted after its backoff',
    pod: inits,
    policy: 'OnFailure',
    rt: () => runtime([sandbox('s1')], { i1: [exited('i1b', 1, 1), exited('i1a', 1, 0)] }),
    want: ['sandbox keep s1', 'start i1 #2 Exited backoff', 'initializing'],
  },
  {
    name: 'a failed init container, restartPolicy Always: restarted after its backoff',
    pod: inits,
    rt: () => runtime([sandbox('s1')], { i1: [exited('i1a', 0)], i2: [exited('i2a', 1)] }),
    want: ['sandbox keep s1', 'start i2 #1 Exited backoff', 'initializing'],
  },
  {
    name: 'every init container succeeded: the app containers start',
    pod: inits,
    rt: () => runtime([sandbox('s1')], { i1: [exited('i1a', 0)], i2: [exited('i2a', 0)] }),
    want: ['sandbox keep s1', 'start app #0 New', 'initialized'],
  },

  // App containers and the restart policy.
  ...([
    ['Always', 0, 'start app #3 Exited backoff'],
    ['Always', 1, 'start app #3 Exited backoff'],
    ['OnFailure', 0, 'done app c2 exit 0'],
    ['OnFailure', 2, 'start app #3 Exited backoff'],
    ['Never', 0, 'done app c2 exit 0'],
    ['Never', 2, 'done app c2 exit 2'],
  ] as const).map(([policy, code, step]): Case => ({
    name: `an exited app container (exit ${code}) under restartPolicy ${policy}`,
    pod: app,
    policy,
    rt: () => runtime([sandbox('s1')], { app: [exited('c2', code, 2), exited('c1', 1, 1)] }),
    want: ['sandbox keep s1', step, 'initialized'],
  })),
  {
    name: 'an app container the runtime no longer knows is judged as exited',
    pod: app,
    policy: 'OnFailure',
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'unknown', 0, { exitCode: 255 })] }),
    want: ['sandbox keep s1', 'start app #1 Exited backoff', 'initialized'],
  },
  {
    name: 'an app container created but not started: started',
    pod: app,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'created')] }),
    want: ['sandbox keep s1', 'startCreated app c1', 'initialized'],
  },
  {
    name: 'app containers are handled each in spec order',
    pod: (b) => b.container({ name: 'a' }).container({ name: 'b' }).container({ name: 'c' }),
    rt: () => runtime([sandbox('s1')], { a: [exited('a1', 1)], b: [ctr('b1', 'running')] }),
    want: ['sandbox keep s1', 'start a #1 Exited backoff', 'keep b b1', 'start c #0 New', 'initialized'],
  },

  // Kills.
  {
    name: 'a liveness failure: killed and restarted at once, without backoff',
    pod: app,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'running', 4)] }),
    ctx: { condemned: new Map([['c1', 'liveness']]) },
    want: ['sandbox keep s1', 'kill app c1 LivenessProbe: Container app failed liveness probe, will be restarted', 'start app #5 Killed', 'initialized'],
  },
  {
    name: 'a startup probe failure under restartPolicy Never: killed, not restarted',
    pod: app,
    policy: 'Never',
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'running')] }),
    ctx: { condemned: new Map([['c1', 'startup']]) },
    want: ['sandbox keep s1', 'kill app c1 StartupProbe: Container app failed startup probe, will be restarted', 'initialized'],
  },
  {
    name: 'a verdict on an earlier instance does not kill the current one',
    pod: app,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c2', 'running', 1), exited('c1', 137)] }),
    ctx: { condemned: new Map([['c1', 'liveness']]) },
    want: ['sandbox keep s1', 'keep app c2', 'initialized'],
  },
  {
    name: 'a changed container spec (hash): killed and restarted',
    pod: app,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'running', 0, { specHash: 'other' })] }),
    want: ['sandbox keep s1', 'kill app c1 SpecChanged: Container app definition changed, will be restarted', 'start app #1 Killed', 'initialized'],
  },
  {
    name: 'the same spec hash: kept',
    pod: app,
    rt: (pod) => runtime([sandbox('s1')], { app: [ctr('c1', 'running', 0, { specHash: hashOf(pod, 'app') })] }),
    want: ['sandbox keep s1', 'keep app c1', 'initialized'],
  },
  {
    name: 'no recorded hash (made before hashes were recorded): kept',
    pod: app,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'running')] }),
    want: ['sandbox keep s1', 'keep app c1', 'initialized'],
  },
  // Ephemeral containers: started once in the running sandbox, never restarted.
  {
    name: 'ephemeral containers added to a running pod are started first, with their target',
    pod: debugged,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'running')] }),
    want: ['sandbox keep s1', 'startEphemeral dbg target app', 'startEphemeral dbg2', 'keep app c1', 'initialized'],
  },
  {
    name: 'an ephemeral container that ran, exited or failed is never started again, whatever the restart policy',
    pod: debugged,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'running')], dbg: [exited('e1', 1)], dbg2: [exited('e2', 0)] }),
    want: ['sandbox keep s1', 'keep app c1', 'initialized'],
  },
  {
    name: 'one still running is left alone; only the new one starts',
    pod: debugged,
    rt: () => runtime([sandbox('s1')], { app: [ctr('c1', 'running')], dbg: [ctr('e1', 'running')] }),
    want: ['sandbox keep s1', 'startEphemeral dbg2', 'keep app c1', 'initialized'],
  },
  {
    name: 'a pod still initializing can be debugged',
    pod: (b) => debugged(b.init({ name: 'i1' })),
    rt: () => runtime([sandbox('s1')], { i1: [ctr('i', 'running')] }),
    want: ['sandbox keep s1', 'startEphemeral dbg target app', 'startEphemeral dbg2', 'initializing'],
  },
  {
    name: 'a new sandbox starts without the ephemeral containers',
    pod: debugged,
    rt: () => runtime([sandbox('s1', 'notready')], { app: [exited('c1', 0)], dbg: [exited('e1', 0)] }),
    want: ['sandbox create #1 SandboxNotReady remove [s1] SandboxChanged', 'start app #0 New', 'initialized'],
  },
];

describe('computePodActions', () => {
  for (const c of cases) {
    it(c.name, () => {
      const b = c.pod(makePod('p'));
      if (c.policy) b.restartPolicy(c.policy);
      const pod = b.build();
      assert.deepEqual(lines(computePodActions(pod, c.rt(pod), c.ctx)), c.want);
    });
  }

  it('does not change its input', () => {
    const pod = makePod('p').container({ name: 'app' }).build();
    const rt = runtime([sandbox('s1', 'notready')], { app: [exited('c1', 1)] });
    const before = structuredClone(rt);
    computePodActions(pod, rt);
    assert.deepEqual(rt, before);
  });
});

describe('terminalPhase', () => {
  const out = (state: ContainerState, exitCode = 0): ContainerOutcome => ({ state, exitCode });
  const table: { policy: 'Always' | 'OnFailure' | 'Never'; outcomes: Record<string, ContainerOutcome>; want: string | undefined }[] = [
    { policy: 'Always', outcomes: { a: out('exited'), b: out('exited') }, want: undefined },
    { policy: 'Never', outcomes: { a: out('exited'), b: out('exited') }, want: 'Succeeded' },
    { policy: 'Never', outcomes: { a: out('exited', 1), b: out('exited') }, want: 'Failed' },
    { policy: 'Never', outcomes: { a: out('exited', 1), b: out('running') }, want: undefined },
    { policy: 'Never', outcomes: { a: out('exited') }, want: undefined },
    { policy: 'OnFailure', outcomes: { a: out('exited'), b: out('exited') }, want: 'Succeeded' },
    { policy: 'OnFailure', outcomes: { a: out('exited', 2), b: out('exited') }, want: undefined },
    { policy: 'OnFailure', outcomes: { a: out('exited'), b: out('created') }, want: undefined },
  ];
  for (const t of table) {
    it(`${t.policy} with ${JSON.stringify(t.outcomes)} → ${t.want ?? 'not over'}`, () => {
      const pod = makePod('p').restartPolicy(t.policy).container({ name: 'a' }).container({ name: 'b' }).build();
      assert.equal(terminalPhase(pod, new Map(Object.entries(t.outcomes))), t.want);
    });
  }
});

describe('computeKillPod', () => {
  it('kills every running, created or unknown instance, init ones too, then stops every sandbox, ready or not', () => {
    const pod = makePod('p').init({ name: 'setup' }).container({ name: 'app' }).container({ name: 'side' }).build();
    const rt = runtime([sandbox('s2', 'ready', 1), sandbox('s1', 'notready')], {
      setup: [ctr('i1', 'running')],
      app: [ctr('c2', 'created', 1), exited('c1', 1)],
      side: [ctr('u1', 'unknown')],
      gone: [ctr('x1', 'running')],
    });
    const plan = computeKillPod(pod, rt);
    const spec = (name: string): SpecContainer | undefined => [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers].find((c) => c.name === name);
    assert.deepEqual(plan, {
      kill: [
        { name: 'setup', id: 'i1', message: 'Stopping container setup', container: spec('setup') },
        { name: 'app', id: 'c2', message: 'Stopping container app', container: spec('app') },
        { name: 'side', id: 'u1', message: 'Stopping container side', container: spec('side') },
        { name: 'gone', id: 'x1', message: 'Stopping container gone' },
      ],
      stopSandboxes: ['s2', 's1'],
    });
  });
});

describe('podRuntimeStatus', () => {
  it('groups a listing by container name, newest sandbox and highest restart count first', () => {
    const sb = (id: string, createdAt: number, attempt: number): PodSandbox => ({
      id, metadata: { name: 'p', uid: 'u', namespace: 'default', attempt }, state: 'notready', createdAt, labels: {}, annotations: {}, runtimeHandler: '',
    });
    const c = (id: string, name: string, restart: number, createdAt: number, hash?: string): Container => ({
      id, podSandboxId: 's', metadata: { name, attempt: restart }, image: 'busybox', imageRef: '', state: 'exited', createdAt,
      labels: { [LABEL_CONTAINER_NAME]: name }, annotations: { [ANNOTATION_RESTART_COUNT]: String(restart), ...(hash ? { [ANNOTATION_SPEC_HASH]: hash } : {}) },
    });
    const rt = podRuntimeStatus([sb('old', 1, 0), sb('new', 2, 1)], [c('a0', 'a', 0, 1), c('a2', 'a', 2, 3, 'h'), c('a1', 'a', 1, 2), c('b0', 'b', 0, 1)]);
    assert.deepEqual(rt.sandboxes, [{ id: 'new', state: 'notready', attempt: 1 }, { id: 'old', state: 'notready', attempt: 0 }]);
    assert.deepEqual(rt.containers.get('a'), [
      { id: 'a2', state: 'exited', restartCount: 2, specHash: 'h' },
      { id: 'a1', state: 'exited', restartCount: 1 },
      { id: 'a0', state: 'exited', restartCount: 0 },
    ]);
    assert.deepEqual(rt.containers.get('b')?.map((x) => x.id), ['b0']);
  });
});
