import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from '../../../api/types.ts';
import { printEvent } from './printer.ts';
import { MIN, NOW, SEC, ago } from '../../printing/testing.ts';
import { rfc3339Micro } from '../../../util/clock.ts';

function event(fields: Partial<Event>): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web.17f3a2b1c0d4e5f6', namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', apiVersion: 'v1', uid: 'uid-web' },
    ...fields,
  };
}

describe('event rows', () => {
  const cases: Array<[string, Event, unknown[]]> = [
    [
      'scheduler event without host',
      event({ type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/web to node-1', source: { component: 'default-scheduler' }, firstTimestamp: ago(7 * SEC), lastTimestamp: ago(7 * SEC), count: 1 }),
      ['7s', 'Normal', 'Scheduled', 'pod/web', '', 'default-scheduler', 'Successfully assigned default/web to node-1', '7s', 1, 'web.17f3a2b1c0d4e5f6'],
    ],
    [
      'kubelet event on a container, repeated',
      event({
        type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod web_default(uid-web)\n',
        involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{app}' }, source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: ago(10 * MIN), lastTimestamp: ago(30 * SEC), count: 12,
      }),
      ['30s', 'Warning', 'BackOff', 'pod/web', 'spec.containers{app}', 'kubelet, node-1', 'Back-off restarting failed container app in pod web_default(uid-web)', '10m', 12, 'web.17f3a2b1c0d4e5f6'],
    ],
    [
      'new-style event: eventTime and reporting fields, no count',
      event({
        type: 'Normal', reason: 'Scheduled', message: 'ok', eventTime: rfc3339Micro(NOW - 45 * SEC - 250),
        reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-node-1',
      }),
      ['45s', 'Normal', 'Scheduled', 'pod/web', '', 'default-scheduler, default-scheduler-node-1', 'ok', '45s', 1, 'web.17f3a2b1c0d4e5f6'],
    ],
    [
      'series overrides last seen and count',
      event({ type: 'Normal', reason: 'Pulled', message: 'm', eventTime: rfc3339Micro(NOW - 3 * MIN), series: { count: 5, lastObservedTime: rfc3339Micro(NOW - 20 * SEC) } }),
      ['20s', 'Normal', 'Pulled', 'pod/web', '', '', 'm', '3m', 5, 'web.17f3a2b1c0d4e5f6'],
    ],
    [
      'no timestamps at all',
      event({ type: 'Normal', reason: 'X', message: 'm' }),
      ['<unknown>', 'Normal', 'X', 'pod/web', '', '', 'm', '<unknown>', 1, 'web.17f3a2b1c0d4e5f6'],
    ],
    [
      'last seen falls back to first seen',
      event({ type: 'Normal', reason: 'X', message: 'm', firstTimestamp: ago(4 * MIN), count: 2 }),
      ['4m', 'Normal', 'X', 'pod/web', '', '', 'm', '4m', 2, 'web.17f3a2b1c0d4e5f6'],
    ],
    [
      'object without a name prints the lower-cased kind only; source host without component',
      event({ type: 'Normal', reason: 'Starting', message: 'm', involvedObject: { kind: 'Node' }, source: { host: 'node-1' }, lastTimestamp: ago(SEC) }),
      ['1s', 'Normal', 'Starting', 'node', '', ', node-1', 'm', '<unknown>', 1, 'web.17f3a2b1c0d4e5f6'],
    ],
  ];
  for (const [name, ev, want] of cases) {
    it(name, () => assert.deepEqual(printEvent(ev, NOW).cells, want));
  }
});
