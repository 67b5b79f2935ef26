import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { printPod, podPrinter } from './printer.ts';
import { MIN, NOW, SEC, ago, makePod, running, terminated, waiting } from '../../printing/testing.ts';
import type { PodBuilder } from '../../printing/testing.ts';

interface Case {
  name: string;
  pod: PodBuilder;
  /** [READY, STATUS, RESTARTS] */
  want: [string, string, string];
}

const scheduled = (name = 'web') => makePod(name).onNode('node-1').condition('PodScheduled', 'True');

const cases: Case[] = [
  {
    name: 'pending, not scheduled',
    pod: makePod().container('app').condition('PodScheduled', 'False', 'Unschedulable'),
    want: ['0/1', 'Pending', '0'],
  },
  { name: 'scheduling gated', pod: makePod().container('app').condition('PodScheduled', 'False', 'SchedulingGated'), want: ['0/1', 'SchedulingGated', '0'] },
  { name: 'container creating', pod: scheduled().container('app', waiting('ContainerCreating')), want: ['0/1', 'ContainerCreating', '0'] },
  { name: 'image pull error', pod: scheduled().container('app', waiting('ErrImagePull')), want: ['0/1', 'ErrImagePull', '0'] },
  { name: 'image pull backoff', pod: scheduled().container('app', waiting('ImagePullBackOff')), want: ['0/1', 'ImagePullBackOff', '0'] },
  { name: 'running 1/1', pod: scheduled().phase('Running').container('app', running(), { ready: true }), want: ['1/1', 'Running', '0'] },
  { name: 'running but not ready', pod: scheduled().phase('Running').container('app', running()), want: ['0/1', 'Running', '0'] },
  {
    name: '1/2 with one container in CrashLoopBackOff',
    pod: scheduled().phase('Running')
      .container('app', running(), { ready: true })
      .container('log', waiting('CrashLoopBackOff'), { restarts: 5, lastFinishedAt: ago(5 * MIN) }),
    want: ['1/2', 'CrashLoopBackOff', '5 (5m ago)'],
  },
  {
    name: 'first container in spec order with a reason wins',
    pod: scheduled().container('a', waiting('ErrImagePull')).container('b', waiting('CrashLoopBackOff')),
    want: ['0/2', 'ErrImagePull', '0'],
  },
  { name: 'completed', pod: scheduled().phase('Succeeded').container('app', terminated(0, 'Completed')), want: ['0/1', 'Completed', '0'] },
  { name: 'error', pod: scheduled().phase('Failed').container('app', terminated(1, 'Error')), want: ['0/1', 'Error', '0'] },
  { name: 'oom killed', pod: scheduled().phase('Failed').container('app', terminated(137, 'OOMKilled')), want: ['0/1', 'OOMKilled', '0'] },
  { name: 'terminated by signal, no reason', pod: scheduled().phase('Failed').container('app', terminated(137, undefined, 9)), want: ['0/1', 'Signal:9', '0'] },
  { name: 'terminated with exit code, no reason', pod: scheduled().phase('Failed').container('app', terminated(2)), want: ['0/1', 'ExitCode:2', '0'] },
  { name: 'evicted', pod: scheduled().phase('Failed').reason('Evicted').container('app'), want: ['0/1', 'Evicted', '0'] },
  {
    name: 'one completed, one running and pod Ready → Running',
    pod: scheduled().phase('Running').condition('Ready', 'True')
      .container('app', running(), { ready: true }).container('job', terminated(0, 'Completed')),
    want: ['1/2', 'Running', '0'],
  },
  {
    name: 'one completed, one running, pod not Ready → NotReady',
    pod: scheduled().phase('Running').condition('Ready', 'False')
      .container('app', running(), { ready: true }).container('job', terminated(0, 'Completed')),
    want: ['1/2', 'NotReady', '0'],
  },
  {
    name: 'Init:0/2 while the first init container runs',
    pod: scheduled().init('a', running()).init('b', waiting('PodInitializing')).container('app', waiting('PodInitializing')),
    want: ['0/1', 'Init:0/2', '0'],
  },
  {
    name: 'Init:1/2 after the first init container completed',
    pod: scheduled().init('a', terminated(0, 'Completed')).init('b', running()).container('app', waiting('PodInitializing')),
    want: ['0/1', 'Init:1/2', '0'],
  },
  {
    name: 'init container waiting on PodInitializing counts as progress, not a reason',
    pod: scheduled().init('a', waiting('PodInitializing')).container('app', waiting('PodInitializing')),
    want: ['0/1', 'Init:0/1', '0'],
  },
  {
    name: 'Init:CrashLoopBackOff with init restarts',
    pod: scheduled().init('setup', waiting('CrashLoopBackOff'), { restarts: 4, lastFinishedAt: ago(90 * SEC) }).container('app', waiting('PodInitializing')),
    want: ['0/1', 'Init:CrashLoopBackOff', '4 (90s ago)'],
  },
  { name: 'Init:Error', pod: scheduled().phase('Failed').init('setup', terminated(1, 'Error')).container('app'), want: ['0/1', 'Init:Error', '0'] },
  { name: 'Init:OOMKilled', pod: scheduled().init('setup', terminated(137, 'OOMKilled')).container('app'), want: ['0/1', 'Init:OOMKilled', '0'] },
  { name: 'Init:Signal:N', pod: scheduled().init('setup', terminated(143, undefined, 15)).container('app'), want: ['0/1', 'Init:Signal:15', '0'] },
  { name: 'Init:ExitCode:N', pod: scheduled().init('setup', terminated(3)).container('app'), want: ['0/1', 'Init:ExitCode:3', '0'] },
  {
    name: 'restarts of completed (non-sidecar) init containers are not counted once initialized',
    pod: scheduled().phase('Running').init('setup', terminated(0, 'Completed'), { restarts: 2, lastFinishedAt: ago(3 * MIN) })
      .container('app', running(), { ready: true }),
    want: ['1/1', 'Running', '0'],
  },
  {
    name: 'started sidecar counts towards READY and its restarts count',
    pod: scheduled().phase('Running').condition('Initialized', 'True')
      .sidecar('proxy', running(), { started: true, ready: true, restarts: 2, lastFinishedAt: ago(10 * MIN) })
      .container('app', running(), { ready: true }),
    want: ['2/2', 'Running', '2 (10m ago)'],
  },
  {
    name: 'sidecar not started yet blocks initialization',
    pod: scheduled().sidecar('proxy', running(), { started: false }).container('app', waiting('PodInitializing')),
    want: ['0/2', 'Init:0/1', '0'],
  },
  {
    name: 'restarts across containers show the latest restart',
    pod: scheduled().phase('Running')
      .container('a', running(), { ready: true, restarts: 2, lastFinishedAt: ago(20 * MIN) })
      .container('b', running(), { ready: true, restarts: 1, lastFinishedAt: ago(5 * MIN + 30 * SEC) }),
    want: ['2/2', 'Running', '3 (5m30s ago)'],
  },
  {
    name: 'restarts without a recorded last termination print the bare count',
    pod: scheduled().phase('Running').container('app', running(), { ready: true, restarts: 3 }),
    want: ['1/1', 'Running', '3'],
  },
  {
    name: 'terminating',
    pod: scheduled().phase('Running').terminating(ago(0)).container('app', running(), { ready: true }),
    want: ['1/1', 'Terminating', '0'],
  },
  {
    name: 'terminating pending pod',
    pod: makePod().terminating(ago(0)).container('app'),
    want: ['0/1', 'Terminating', '0'],
  },
  {
    name: 'deleted pod in a terminal phase keeps its reason',
    pod: scheduled().phase('Succeeded').terminating(ago(0)).container('app', terminated(0, 'Completed')),
    want: ['0/1', 'Completed', '0'],
  },
  {
    name: 'node lost → Unknown',
    pod: scheduled().phase('Running').reason('NodeLost').terminating(ago(0)).container('app', running(), { ready: true }),
    want: ['1/1', 'Unknown', '0'],
  },
  {
    name: 'node lost without deletion shows the reason',
    pod: scheduled().phase('Running').reason('NodeLost').container('app', running(), { ready: true }),
    want: ['1/1', 'NodeLost', '0'],
  },
];

describe('pod STATUS / READY / RESTARTS', () => {
  for (const c of cases) {
    it(c.name, () => {
      const cells = printPod(c.pod.build(), NOW).cells;
      assert.deepEqual(cells.slice(1, 4), c.want);
    });
  }
});

describe('pod row', () => {
  it('prints every cell of a running pod, as in the wire trace', () => {
    const pod = makePod('linkding').onNode('node-1').ip('10.244.0.10').phase('Running').container('app', running(), { ready: true }).build();
    assert.deepEqual(printPod(pod, NOW), { cells: ['linkding', '1/1', 'Running', '0', '6s', '10.244.0.10', 'node-1', '<none>', '<none>'] });
  });

  it('prints <none> for missing IP, node and nominated node', () => {
    const pod = makePod().container('app').build();
    assert.deepEqual(printPod(pod, NOW).cells, ['web', '0/1', 'Pending', '0', '6s', '<none>', '<none>', '<none>', '<none>']);
  });

  it('prefers podIPs[0] over podIP and shows the nominated node', () => {
    const pod = makePod().nominated('node-2').container('app').build();
    pod.status!.podIP = '10.0.0.9';
    pod.status!.podIPs = [{ ip: 'fd00::9' }, { ip: '10.0.0.9' }];
    assert.deepEqual(printPod(pod, NOW).cells.slice(5, 8), ['fd00::9', '<none>', 'node-2']);
    delete pod.status!.podIPs;
    assert.equal(printPod(pod, NOW).cells[5], '10.0.0.9');
  });

  it('counts true readiness gates', () => {
    const pod = makePod().readinessGate('example.com/feature-1').readinessGate('example.com/feature-2')
      .condition('example.com/feature-1', 'True').condition('example.com/feature-2', 'False').container('app').build();
    assert.equal(printPod(pod, NOW).cells[8], '1/2');
  });

  it('marks Succeeded and Failed rows Completed, as the real server does', () => {
    const ok = printPod(makePod().phase('Succeeded').container('app', terminated(0, 'Completed')).build(), NOW);
    assert.deepEqual(ok.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
    const failed = printPod(makePod().phase('Failed').container('app', terminated(1, 'Error')).build(), NOW);
    assert.deepEqual(failed.conditions, [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
    assert.equal(printPod(makePod().phase('Running').build(), NOW).conditions, undefined);
  });

  it('shows <unknown> age without a creationTimestamp', () => {
    const pod = makePod().container('app').build();
    delete pod.metadata!.creationTimestamp;
    assert.equal(printPod(pod, NOW).cells[4], '<unknown>');
  });

  it('has the nine upstream columns with their priorities and types', () => {
    assert.deepEqual(
      podPrinter.columns.map((c) => [c.name, c.priority, c.type, c.format]),
      [
        ['Name', 0, 'string', 'name'], ['Ready', 0, 'string', ''], ['Status', 0, 'string', ''], ['Restarts', 0, 'string', ''],
        ['Age', 0, 'string', ''], ['IP', 1, 'string', ''], ['Node', 1, 'string', ''], ['Nominated Node', 1, 'string', ''],
        ['Readiness Gates', 1, 'string', ''],
      ],
    );
  });
});
