import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Container, Pod } from '../types.ts';
import { applyPodAdmissionDefaults, applyPodSchemeDefaults, defaultImagePullPolicy, defaultPod } from './pod.ts';

const fixture = (name: string): Pod => {
  const text = readFileSync(new URL(`../testdata/${name}`, import.meta.url), 'utf8');
  return (name.endsWith('.json') ? JSON.parse(text) : parse(text)) as Pod;
};

const defaultTolerations = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

test('the seed manifest gets every default kubectl-wire §4 lists', () => {
  const pod = fixture('linkding.yaml');
  defaultPod(pod);
  assert.deepEqual(pod.spec, {
    containers: [
      {
        image: 'sissbruecker/linkding:latest',
        name: 'linkding',
        ports: [{ containerPort: 9090, protocol: 'TCP' }],
        imagePullPolicy: 'Always',
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ],
    enableServiceLinks: true,
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
    serviceAccountName: 'default',
    serviceAccount: 'default',
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
    tolerations: defaultTolerations,
  });
});

test('kubectl run body: tagged image → IfNotPresent, port protocol TCP', () => {
  const pod = fixture('kubectl-run-linkding.json');
  defaultPod(pod);
  const c = pod.spec!.containers[0];
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(c.ports, [{ containerPort: 9090, protocol: 'TCP' }]);
  assert.deepEqual(c.resources, {});
});

test('imagePullPolicy from the image reference', () => {
  const cases: [string, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.27', 'IfNotPresent'],
    ['registry.local:5000/team/app', 'Always'],
    ['registry.local:5000/team/app:v2', 'IfNotPresent'],
    ['nginx@sha256:96089547c4829f6578d35ec2ba4dbfb7afced22c971b692c3a7ed0105ca59af8', 'IfNotPresent'],
    ['nginx:latest@sha256:96089547c4829f6578d35ec2ba4dbfb7afced22c971b692c3a7ed0105ca59af8', 'Always'],
    ['Nginx', 'IfNotPresent'], // not a valid reference: no tag found, as Kubernetes
    ['', 'IfNotPresent'],
  ];
  for (const [image, want] of cases) assert.equal(defaultImagePullPolicy(image), want, image);
});

test('probes, lifecycle hooks, env field refs and volumes get their defaults', () => {
  const pod: Pod = {
    metadata: { name: 'p' },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'busybox:1.36',
          imagePullPolicy: 'Never',
          livenessProbe: { httpGet: { port: 8080 } },
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
          startupProbe: { grpc: { port: 9000 } },
          lifecycle: { preStop: { httpGet: { port: 'http' } } },
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        },
      ],
      volumes: [
        { name: 'scratch' },
        { name: 'cfg', configMap: { name: 'app' } },
        { name: 'creds', secret: { secretName: 's' } },
        { name: 'host', hostPath: { path: '/data' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
        { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        { name: 'ram', emptyDir: { medium: 'Memory' } },
      ],
    },
  };
  applyPodSchemeDefaults(pod);
  const c = pod.spec!.containers[0];
  assert.equal(c.imagePullPolicy, 'Never');
  assert.deepEqual(c.livenessProbe, { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.readinessProbe, { tcpSocket: { port: 8080 }, periodSeconds: 2, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  assert.equal(c.startupProbe?.grpc?.service, '');
  assert.deepEqual(c.lifecycle?.preStop?.httpGet, { port: 'http', path: '/', scheme: 'HTTP' });
  assert.equal(c.env?.[0].valueFrom?.fieldRef?.apiVersion, 'v1');
  const v = pod.spec!.volumes!;
  assert.deepEqual(v[0], { name: 'scratch', emptyDir: {} });
  assert.equal(v[1].configMap?.defaultMode, 420);
  assert.equal(v[2].secret?.defaultMode, 420);
  assert.equal(v[3].hostPath?.type, '');
  assert.equal(v[4].downwardAPI?.defaultMode, 420);
  assert.equal(v[4].downwardAPI?.items?.[0].fieldRef?.apiVersion, 'v1');
  assert.equal(v[5].projected?.defaultMode, 420);
  assert.equal(v[5].projected?.sources?.[0].serviceAccountToken?.expirationSeconds, 3600);
  assert.deepEqual(v[6], { name: 'ram', emptyDir: { medium: 'Memory' } });
  // Scheme defaults alone do not add admission defaults.
  assert.equal(pod.spec!.serviceAccountName, undefined);
  assert.equal(pod.spec!.tolerations, undefined);
});

test('limits stand in for missing requests; quantities become canonical', () => {
  const pod = fixture('linkding-resources.yaml');
  const ctr = (): Container => pod.spec!.containers[0];
  defaultPod(pod);
  assert.deepEqual(ctr().resources, { requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } });
  const other: Pod = {
    metadata: { name: 'q' },
    spec: {
      containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '0.5', memory: '1Gi', 'example.com/gpu': '1' }, requests: { memory: '0.5Gi' } } }],
      initContainers: [{ name: 'i', image: 'x', resources: { limits: { cpu: 2 as unknown as string } } }],
    },
  };
  defaultPod(other);
  assert.deepEqual(other.spec!.containers[0].resources, {
    limits: { cpu: '500m', memory: '1Gi', 'example.com/gpu': '1' },
    requests: { memory: '512Mi', cpu: '500m', 'example.com/gpu': '1' },
  });
  assert.deepEqual(other.spec!.initContainers![0].resources, { limits: { cpu: '2' }, requests: { cpu: '2' } });
});

test('admission defaults: tolerations only when not already tolerated; system priority classes', () => {
  const mk = (tolerations?: Pod['spec'] extends infer S ? (S extends { tolerations?: infer T } ? T : never) : never): Pod => ({
    metadata: { name: 'p' },
    spec: { containers: [], tolerations },
  });
  const a = mk([{ operator: 'Exists' }]);
  applyPodAdmissionDefaults(a);
  assert.deepEqual(a.spec!.tolerations, [{ operator: 'Exists' }]);
  const b = mk([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }]);
  applyPodAdmissionDefaults(b);
  assert.deepEqual(b.spec!.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
    defaultTolerations[1],
  ]);
  const c: Pod = { metadata: { name: 'p' }, spec: { containers: [], priorityClassName: 'system-node-critical', serviceAccount: 'builder' } };
  applyPodSchemeDefaults(c);
  applyPodAdmissionDefaults(c);
  assert.equal(c.spec!.priority, 2000001000);
  assert.equal(c.spec!.serviceAccountName, 'builder');
});

test('defaulting is idempotent; the exported seed pod (Kubernetes 1.18) only gains preemptionPolicy', () => {
  const pod = fixture('linkding-exported.yaml');
  const before = structuredClone(pod);
  defaultPod(pod);
  before.spec!.preemptionPolicy = 'PreemptLowerPriority';
  assert.deepEqual(pod, before);
  const again = structuredClone(pod);
  defaultPod(again);
  assert.deepEqual(again, pod);
});

test('hostNetwork pods default hostPort to containerPort; status IP mirrors', () => {
  const pod: Pod = {
    metadata: { name: 'h' },
    spec: { hostNetwork: true, containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }] }] },
    status: { podIP: '10.0.0.9' },
  };
  applyPodSchemeDefaults(pod);
  assert.equal(pod.spec!.containers[0].ports![0].hostPort, 80);
  assert.deepEqual(pod.status!.podIPs, [{ ip: '10.0.0.9' }]);
});
