import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent } from '../../../api/types.ts';
import { fromCoreEvent, toCoreEvent } from './convert.ts';

describe('events.k8s.io/v1 <-> core/v1 Event', () => {
  const core: CoreEvent = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e', namespace: 'ns', resourceVersion: '7' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'ns' },
    related: { kind: 'Node', name: 'n' },
    message: 'm',
    reason: 'R',
    action: 'A',
    type: 'Normal',
    source: { component: 'c', host: 'h' },
    firstTimestamp: '2025-01-01T00:00:00Z',
    lastTimestamp: '2025-01-01T00:01:00Z',
    count: 3,
    eventTime: '2025-01-01T00:00:00.000001Z',
    series: { count: 2, lastObservedTime: '2025-01-01T00:02:00.000000Z' },
    reportingComponent: 'ctrl',
    reportingInstance: 'inst',
  };
  const v1 = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'e', namespace: 'ns', resourceVersion: '7' },
    regarding: { kind: 'Pod', name: 'p', namespace: 'ns' },
    related: { kind: 'Node', name: 'n' },
    note: 'm',
    reason: 'R',
    action: 'A',
    type: 'Normal',
    deprecatedSource: { component: 'c', host: 'h' },
    deprecatedFirstTimestamp: '2025-01-01T00:00:00Z',
    deprecatedLastTimestamp: '2025-01-01T00:01:00Z',
    deprecatedCount: 3,
    eventTime: '2025-01-01T00:00:00.000001Z',
    series: { count: 2, lastObservedTime: '2025-01-01T00:02:00.000000Z' },
    reportingController: 'ctrl',
    reportingInstance: 'inst',
  };

  it('maps every field both ways', () => {
    assert.deepEqual(fromCoreEvent(core), v1);
    assert.deepEqual(toCoreEvent(v1), core);
  });

  it('keeps the metadata object (the store restores resourceVersion on it)', () => {
    assert.equal(toCoreEvent(v1).metadata, v1.metadata);
    assert.equal(fromCoreEvent(core).metadata, core.metadata);
  });

  it('leaves absent fields absent; the object reference is always there, as a Go struct is', () => {
    assert.deepEqual(toCoreEvent({ metadata: { name: 'x' } }), { apiVersion: 'v1', kind: 'Event', metadata: { name: 'x' }, involvedObject: {} });
    assert.deepEqual(fromCoreEvent({ metadata: { name: 'x' } } as CoreEvent), { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'x' }, regarding: {} });
  });
});
