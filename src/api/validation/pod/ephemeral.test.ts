import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../../field.ts';
import { defaultPod } from '../../defaults/pod.ts';
import type { EphemeralContainer, Pod } from '../../types.ts';
import { validatePodEphemeralContainersUpdate } from './index.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

const debuggerC = (name: string, extra: Partial<EphemeralContainer> = {}): EphemeralContainer => ({ name, image: 'busybox', terminationMessagePolicy: 'File', ...extra });

function pod(ephemeral: EphemeralContainer[] = [], annotations?: Record<string, string>): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '5', creationTimestamp: '2025-01-01T00:00:00Z', ...(annotations ? { annotations } : {}) },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox' }], ...(ephemeral.length ? { ephemeralContainers: ephemeral } : {}) },
  };
  defaultPod(p);
  return p;
}

test('ephemeral containers may only be added through pods/ephemeralcontainers', () => {
  const cases: { name: string; old: EphemeralContainer[]; now: EphemeralContainer[]; want: string[]; annotations?: Record<string, string> }[] = [
    { name: 'the first one added', old: [], now: [debuggerC('debugger-a')], want: [] },
    { name: 'a second one added, the list in another order', old: [debuggerC('debugger-a')], now: [debuggerC('debugger-b'), debuggerC('debugger-a')], want: [] },
    {
      name: 'one removed',
      old: [debuggerC('debugger-a'), debuggerC('debugger-b')],
      now: [debuggerC('debugger-b')],
      want: ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-a" may not be removed\n'],
    },
    {
      name: 'one changed',
      old: [debuggerC('debugger-a')],
      now: [debuggerC('debugger-a', { image: 'alpine' })],
      want: ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-a" may not be changed\n  image: "busybox" -> "alpine"'],
    },
    {
      name: 'a port on the new one',
      old: [],
      now: [debuggerC('debugger-a', { ports: [{ containerPort: 80 }] })],
      want: ['spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container'],
    },
    {
      name: 'a target that is no container of the pod',
      old: [],
      now: [debuggerC('debugger-a', { targetContainerName: 'nope' })],
      want: ['spec.ephemeralContainers[0].targetContainerName: Not found: "nope"'],
    },
    { name: 'a target that is', old: [], now: [debuggerC('debugger-a', { targetContainerName: 'app' })], want: [] },
    {
      name: 'the name of an app container',
      old: [],
      now: [debuggerC('app')],
      want: ['spec.ephemeralContainers[0].name: Duplicate value: "app"'],
    },
    {
      name: 'a static pod',
      old: [],
      now: [debuggerC('debugger-a')],
      annotations: { 'kubernetes.io/config.mirror': 'abc' },
      want: [': Forbidden: static pods do not support ephemeral containers'],
    },
  ];
  for (const c of cases) {
    const old = pod(c.old, c.annotations);
    const now = pod(c.now, c.annotations);
    assert.deepEqual(render(validatePodEphemeralContainersUpdate(now, old)), c.want, c.name);
  }
});
