import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelSchema, type PatchField } from './schema.ts';
import { applyJsonPatch } from './jsonpatch.ts';
import { applyMergePatch } from './mergepatch.ts';
import { applyStrategicMergePatch } from './strategic.ts';
import { applyServerSideApply } from './apply.ts';
import { StatusError } from '../../util/status.ts';
import { livePod } from './testing.ts';

const f = (list: boolean, typeName: string | undefined, mergeKey?: string, strategy?: string): PatchField => ({ list, typeName, mergeKey, strategy });

describe('modelSchema', () => {
  const cases: Array<[string, string, PatchField | undefined]> = [
    ['V1Pod', 'spec', f(false, 'V1PodSpec')],
    ['V1Pod', 'metadata', f(false, 'V1ObjectMeta')],
    ['V1PodSpec', 'containers', f(true, 'V1Container', 'name', 'merge')],
    ['V1PodSpec', 'volumes', f(true, 'V1Volume', 'name', 'merge,retainKeys')],
    ['V1PodSpec', 'tolerations', f(true, 'V1Toleration')],
    ['V1PodSpec', 'nodeSelector', f(false, 'map[]')],
    ['V1PodSpec', 'restartPolicy', f(false, undefined)],
    ['V1Container', 'ports', f(true, 'V1ContainerPort', 'containerPort', 'merge')],
    ['V1Container', 'args', f(true, undefined)],
    ['V1ObjectMeta', 'finalizers', f(true, undefined, '', 'merge')],
    ['V1ObjectMeta', 'ownerReferences', f(true, 'V1OwnerReference', 'uid', 'merge')],
    ['V1PodStatus', 'conditions', f(true, 'V1PodCondition', 'type', 'merge')],
    ['map[]', 'anything', f(false, undefined)],
    ['map[V1ContainerPort]', 'x', f(false, 'V1ContainerPort')],
    ['map[[]]', 'x', f(true, undefined)],
    ['V1PodSpec', 'noSuchField', undefined],
    ['NoSuchType', 'spec', undefined],
    ['../../etc/passwd', 'x', undefined],
  ];
  for (const [type, field, want] of cases) {
    it(`${type}.${field}`, () => assert.deepEqual(modelSchema.field(type, field), want));
  }
});

// Deterministic garbage: every engine must answer a result or a 4xx StatusError, never another exception.
describe('random patches never escape as non-Status errors', () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed >>> 8) % n;
  };
  const atoms: unknown[] = [null, 0, 1, -1, 'x', '', true, '$patch', 'delete', 'replace', 'merge', '/a', '-', '~', 'name', '__proto__'];
  const keys = ['$patch', '$retainKeys', '$setElementOrder/containers', '$deleteFromPrimitiveList/finalizers', 'containers', 'name', 'spec', 'metadata', 'finalizers', 'labels', 'ports', 'containerPort', 'env', 'op', 'path', 'from', 'value', '__proto__', 'apiVersion', 'kind'];
  const gen = (depth: number): unknown => {
    const r = rand(depth > 5 ? 2 : 4);
    if (r === 0 || r === 1) return atoms[rand(atoms.length)];
    if (r === 2) return Array.from({ length: rand(4) }, () => gen(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = rand(5); i > 0; i--) o[keys[rand(keys.length)]] = gen(depth + 1);
    return o;
  };
  const engines: Array<[string, (doc: unknown, patch: unknown) => unknown]> = [
    ['json', (d, p) => applyJsonPatch(d, p)],
    ['merge', (d, p) => applyMergePatch(d, p)],
    ['strategic', (d, p) => applyStrategicMergePatch(d, p, modelSchema, 'V1Pod')],
    ['apply', (d, p) => applyServerSideApply(d, p, modelSchema, 'V1Pod', 'm', { now: '2025-01-01T00:00:00Z' })],
  ];
  for (const [name, run] of engines) {
    it(name, () => {
      for (let i = 0; i < 2000; i++) {
        const patch = name === 'json' ? Array.from({ length: rand(4) }, () => gen(1)) : gen(0);
        const wrapped = name === 'strategic' || name === 'apply' ? { apiVersion: 'v1', kind: 'Pod', spec: patch, metadata: gen(1) } : patch;
        try {
          run(livePod({ finalizers: ['a'] }), wrapped);
        } catch (err) {
          assert.ok(err instanceof StatusError, `${name} threw ${String(err)} for ${JSON.stringify(wrapped)}`);
          assert.ok(err.code >= 400 && err.code < 500, `${name} answered ${err.code} ${err.message}`);
        }
      }
    });
  }
});
