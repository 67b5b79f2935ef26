// Test helpers for the patch engines (imported by the co-located tests only).

import assert from 'node:assert/strict';
import { StatusError } from '../../util/status.ts';

/** Asserts `fn` throws a StatusError with this HTTP code (and reason / message fragment when given). */
export function assertStatus(fn: () => unknown, code: number, reason?: string, messageIncludes?: string): StatusError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StatusError, `expected a StatusError ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  assert.equal(caught.code, code, `code of ${caught.message}`);
  if (reason !== undefined) assert.equal(caught.reason, reason);
  if (messageIncludes !== undefined) assert.ok(caught.message.includes(messageIncludes), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(messageIncludes)}`);
  return caught;
}

/** A value nested `depth` levels deep: {"a":{"a":...{}}}. */
export function nested(depth: number): unknown {
  let v: unknown = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

export interface PodOptions {
  labels?: Record<string, string>;
  containers?: unknown[];
  finalizers?: string[];
}

/** A live Pod as the registry stores it (defaults filled in), for patches to apply to. */
export function livePod(o: PodOptions = {}): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    name: 'web',
    namespace: 'default',
    uid: '1f1d7e3c-0000-4000-8000-000000000001',
    resourceVersion: '7',
    labels: o.labels ?? { app: 'web', tier: 'frontend' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n' },
  };
  if (o.finalizers) metadata.finalizers = o.finalizers;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      containers: o.containers ?? [container('nginx', { env: [{ name: 'MODE', value: 'a' }], ports: [{ containerPort: 80, protocol: 'TCP' }] })],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
    },
    status: { phase: 'Running' },
  };
}

export function container(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', ...extra };
}
