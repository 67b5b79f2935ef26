import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fieldErrorMessage, invalidError, type FieldError } from '../../field.ts';
import { defaultPod } from '../../defaults/pod.ts';
import { podQOSClass } from '../../qos.ts';
import type { Container, Pod } from '../../types.ts';
import { validatePod, validatePodStatusUpdate, validatePodUpdate } from './index.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

const fixture = (name: string): Pod => {
  const text = readFileSync(new URL(`../../testdata/${name}`, import.meta.url), 'utf8');
  return (name.endsWith('.json') ? JSON.parse(text) : parse(text)) as Pod;
};

/** What the store does before validating a create: namespace from the URL, generated name, defaults. */
function asCreated(pod: Pod, namespace = 'default'): Pod {
  const meta = (pod.metadata ??= {});
  meta.namespace ??= namespace;
  if (!meta.name && meta.generateName) meta.name = `${meta.generateName}zlz6h`;
  defaultPod(pod);
  return pod;
}

/** A stored pod: created, with the fields the store adds. */
function stored(pod: Pod): Pod {
  asCreated(pod);
  pod.metadata!.uid = 'uid-1';
  pod.metadata!.resourceVersion = '10';
  pod.metadata!.creationTimestamp = '2025-01-01T00:00:00Z';
  return pod;
}

const base = (mut: (p: Pod, c: Container) => void = () => {}): Pod => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36', ports: [{ containerPort: 8080, name: 'http' }] }] },
  };
  defaultPod(pod);
  mut(pod, pod.spec!.containers[0]);
  return pod;
};

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

test('the seed walkthrough manifests validate clean after defaulting', () => {
  for (const name of ['linkding.yaml', 'linkding-exported.yaml', 'linkding-healthcheck.yaml', 'linkding-resources.yaml', 'kubectl-run-linkding.json']) {
    assert.deepEqual(render(validatePod(asCreated(fixture(name)))), [], name);
  }
  assert.equal(podQOSClass(asCreated(fixture('linkding-resources.yaml'))), 'Burstable');
  assert.equal(podQOSClass(asCreated(fixture('linkding.yaml'))), 'BestEffort');
});

test('the seed volume manifest mounts a volume it never declares', () => {
  const pod = asCreated(fixture('linkding-volumes.yaml'));
  assert.deepEqual(render(validatePod(pod)), ['spec.containers[0].volumeMounts[0].name: Not found: "linkding-data"']);
  // The seed's nfs volume is named "linkding": still not found. Named as mounted, it validates.
  const withNfs = (name: string): Pod => {
    const p = fixture('linkding-volumes.yaml');
    p.spec!.volumes = [{ name, nfs: { server: 'my.nfs.server.local', path: '/exports' } }];
    return asCreated(p);
  };
  assert.deepEqual(render(validatePod(withNfs('linkding'))), ['spec.containers[0].volumeMounts[0].name: Not found: "linkding-data"']);
  assert.deepEqual(render(validatePod(withNfs('linkding-data'))), []);
});

test('create-time errors, worded as kubectl prints them', () => {
  const cases: [string, Pod, string[]][] = [
    ['valid', base(), []],
    ['no containers', base((p) => (p.spec!.containers = [])), ['spec.containers: Required value']],
    ['missing image', base((_, c) => delete c.image), ['spec.containers[0].image: Required value']],
    ['image with spaces', base((_, c) => (c.image = ' busybox ')), ['spec.containers[0].image: Invalid value: " busybox ": must not have leading or trailing whitespace']],
    ['bad container name', base((_, c) => (c.name = 'Bad_Name')), [`spec.containers[0].name: Invalid value: "Bad_Name": ${LABEL_MSG}`]],
    [
      'duplicate names across init and app containers',
      base((p) => (p.spec!.initContainers = [{ ...structuredClone(p.spec!.containers[0]), ports: [] }])),
      ['spec.initContainers[0].name: Duplicate value: "app"'],
    ],
    ['duplicate app containers', base((p) => p.spec!.containers.push({ ...structuredClone(p.spec!.containers[0]), ports: [] })), ['spec.containers[1].name: Duplicate value: "app"']],
    ['port 0', base((_, c) => (c.ports![0].containerPort = 0)), ['spec.containers[0].ports[0].containerPort: Required value']],
    ['port out of range', base((_, c) => (c.ports![0].containerPort = 70000)), ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    [
      'bad protocol',
      base((_, c) => (c.ports![0].protocol = 'HTTP')),
      ['spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
    ],
    ['numeric port name', base((_, c) => (c.ports![0].name = '8080')), ['spec.containers[0].ports[0].name: Invalid value: "8080": must contain at least one letter (a-z)']],
    [
      'duplicate port name',
      base((_, c) => c.ports!.push({ containerPort: 9090, name: 'http', protocol: 'TCP' })),
      ['spec.containers[0].ports[1].name: Duplicate value: "http"'],
    ],
    [
      'host port conflict',
      base((p, c) => {
        c.ports![0].hostPort = 80;
        p.spec!.containers.push({ ...structuredClone(c), name: 'side', ports: [{ containerPort: 81, hostPort: 80, protocol: 'TCP' }] });
      }),
      ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"'],
    ],
    [
      'env name with =',
      base((_, c) => (c.env = [{ name: 'A=B', value: 'x' }])),
      ['spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than \'=\''],
    ],
    ['env without name', base((_, c) => (c.env = [{ name: '' }])), ['spec.containers[0].env[0].name: Required value']],
    [
      'env valueFrom without a source',
      base((_, c) => (c.env = [{ name: 'A', valueFrom: {} }])),
      ['spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'],
    ],
    [
      'env value and valueFrom',
      base((_, c) => (c.env = [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }])),
      ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty'],
    ],
    [
      'env fieldRef not supported',
      base((_, c) => (c.env = [{ name: 'A', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } } }])),
      [
        'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
      ],
    ],
    [
      'requests above limits',
      base((_, c) => (c.resources = { requests: { cpu: '2', memory: '64Mi' }, limits: { cpu: '1', memory: '64Mi' } })),
      ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
    ],
    [
      'negative limit',
      base((_, c) => (c.resources = { limits: { memory: '-1' }, requests: { memory: '-1' } })),
      [
        'spec.containers[0].resources.limits[memory]: Invalid value: "-1": must be greater than or equal to 0',
        'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0',
      ],
    ],
    [
      'unparsable quantity',
      base((_, c) => (c.resources = { requests: { cpu: 'lots' } })),
      [
        "spec.containers[0].resources.requests[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      ],
    ],
    [
      'unknown resource',
      base((_, c) => (c.resources = { requests: { gpu: '1' } })),
      [
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified',
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
      ],
    ],
    [
      'extended resource needs a whole, equal limit',
      base((_, c) => (c.resources = { requests: { 'example.com/gpu': '500m' } })),
      [
        'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "500m": must be an integer',
        'spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources',
      ],
    ],
    [
      'two probe handlers',
      base((_, c) => (c.livenessProbe = { httpGet: { path: '/', port: 8080, scheme: 'HTTP' }, tcpSocket: { port: 8080 }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 })),
      ['spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type'],
    ],
    [
      'probe without handler',
      base((_, c) => (c.readinessProbe = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 })),
      ['spec.containers[0].readinessProbe: Required value: must specify a handler type'],
    ],
    [
      'liveness successThreshold',
      base((_, c) => (c.livenessProbe = { exec: { command: ['true'] }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 2, failureThreshold: 3 })),
      ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
    ],
    [
      'readiness may succeed twice',
      base((_, c) => (c.readinessProbe = { tcpSocket: { port: 'http' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 2, failureThreshold: 3 })),
      [],
    ],
    [
      'grpc probe',
      base((_, c) => (c.livenessProbe = { grpc: { port: 9000, service: '' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 })),
      [],
    ],
    [
      'grpc probe without a port, and one out of range',
      base((_, c) => {
        c.livenessProbe = { grpc: {} as { port: number }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };
        c.readinessProbe = { grpc: { port: 65536 }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };
      }),
      [
        'spec.containers[0].livenessProbe.grpc.port: Invalid value: 0: must be between 1 and 65535, inclusive',
        'spec.containers[0].readinessProbe.grpc.port: Invalid value: 65536: must be between 1 and 65535, inclusive',
      ],
    ],
    [
      'grpc probe beside another handler',
      base((_, c) => (c.startupProbe = { exec: { command: ['true'] }, grpc: { port: 9000 }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 })),
      ['spec.containers[0].startupProbe.grpc: Forbidden: may not specify more than 1 handler type'],
    ],
    [
      'negative probe delay and bad named port',
      base((_, c) => (c.startupProbe = { tcpSocket: { port: 'HTTP' }, initialDelaySeconds: -1, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 })),
      [
        'spec.containers[0].startupProbe.tcpSocket.port: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        'spec.containers[0].startupProbe.tcpSocket.port: Invalid value: "HTTP": must contain at least one letter (a-z)',
        'spec.containers[0].startupProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0',
      ],
    ],
    [
      'probes on a plain init container',
      base((p) => (p.spec!.initContainers = [{ name: 'init', image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', livenessProbe: { exec: { command: ['true'] }, successThreshold: 1 } }])),
      ['spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always'],
    ],
    ['mount of a missing volume', base((_, c) => (c.volumeMounts = [{ name: 'x', mountPath: '/x' }])), ['spec.containers[0].volumeMounts[0].name: Not found: "x"']],
    [
      'mount paths must be unique',
      base((p, c) => {
        p.spec!.volumes = [{ name: 'a', emptyDir: {} }, { name: 'b', emptyDir: {} }];
        c.volumeMounts = [{ name: 'a', mountPath: '/data' }, { name: 'b', mountPath: '/data' }];
      }),
      ['spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique'],
    ],
    [
      'two volume sources',
      base((p) => (p.spec!.volumes = [{ name: 'a', emptyDir: {}, hostPath: { path: '/x', type: '' } }])),
      ['spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type'],
    ],
    [
      'duplicate volume names',
      base((p) => (p.spec!.volumes = [{ name: 'data', emptyDir: {} }, { name: 'data', emptyDir: {} }])),
      ['spec.volumes[1].name: Duplicate value: "data"'],
    ],
    ['volume name', base((p) => (p.spec!.volumes = [{ name: 'My.Data', emptyDir: {} }])), [`spec.volumes[0].name: Invalid value: "My.Data": ${LABEL_MSG}`]],
    [
      'hostPath type and nfs path',
      base((p) => (p.spec!.volumes = [{ name: 'h', hostPath: { path: '/x', type: 'Dir' } }, { name: 'n', nfs: { server: 's', path: 'exports' } }])),
      [
        'spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
        'spec.volumes[1].nfs.path: Invalid value: "exports": must be an absolute path',
      ],
    ],
    [
      'configMap item paths',
      base((p) => (p.spec!.volumes = [{ name: 'c', configMap: { name: 'cfg', defaultMode: 0o1000, items: [{ key: 'a', path: '../a' }] } }])),
      [
        'spec.volumes[0].configMap.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive',
        "spec.volumes[0].configMap.items[0].path: Invalid value: \"../a\": must not contain '..'",
      ],
    ],
    [
      'restartPolicy enum',
      base((p) => (p.spec!.restartPolicy = 'Sometimes')),
      ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
    ],
    [
      'dnsPolicy enum',
      base((p) => (p.spec!.dnsPolicy = 'Cluster')),
      ['spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'],
    ],
    [
      'imagePullPolicy enum',
      base((_, c) => (c.imagePullPolicy = 'Sometimes')),
      ['spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'],
    ],
    ['activeDeadlineSeconds', base((p) => (p.spec!.activeDeadlineSeconds = 0)), ['spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive']],
    [
      'nodeSelector value',
      base((p) => (p.spec!.nodeSelector = { disk: 'fast ssd' })),
      [
        "spec.nodeSelector: Invalid value: \"fast ssd\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      ],
    ],
    [
      'toleration rules',
      base((p) => {
        p.spec!.tolerations = [
          { operator: 'Equal', value: 'x' },
          { key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 },
          { key: 'k', operator: 'Matches' },
          { key: 'k', operator: 'Equal', effect: 'Never' },
        ];
      }),
      [
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
        "spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
        'spec.tolerations[2].operator: Unsupported value: "Matches": supported values: "Equal", "Exists"',
        'spec.tolerations[3].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      ],
    ],
    ['hostname', base((p) => (p.spec!.hostname = 'web.local')), [`spec.hostname: Invalid value: "web.local": ${LABEL_MSG}`]],
    ['nodeName', base((p) => (p.spec!.nodeName = 'Node_1')), [`spec.nodeName: Invalid value: "Node_1": ${SUBDOMAIN_MSG}`]],
    ['runAsUser', base((p) => (p.spec!.securityContext = { runAsUser: -1 })), ['spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive']],
    [
      'node affinity without terms, bad weight',
      base(
        (p) =>
          (p.spec!.affinity = {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] },
              preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }],
            },
          }),
      ),
      [
        'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term',
        'spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100',
      ],
    ],
    [
      'pod anti-affinity needs a topologyKey',
      base((p) => (p.spec!.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: '' }] } })),
      [
        'spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty',
        'spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must be non-empty',
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      ],
    ],
    [
      'topology spread',
      base((p) => (p.spec!.topologySpreadConstraints = [{ maxSkew: 0, topologyKey: 'zone', whenUnsatisfiable: 'Maybe', labelSelector: { matchLabels: { app: 'web' } } }])),
      [
        'spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero',
        'spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"',
      ],
    ],
    ['ephemeral containers on create', base((p) => (p.spec!.ephemeralContainers = [{ name: 'debug', image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File' }])), [
      'spec.ephemeralContainers: Forbidden: cannot be set on create',
    ]],
  ];
  for (const [name, pod, want] of cases) assert.deepEqual(render(validatePod(pod)), want, name);
});

test('several causes render as the 422 kubectl shows', () => {
  const pod = base((p, c) => {
    p.metadata!.name = 'Bad_Name';
    c.name = 'Bad_Name';
  });
  const err = invalidError('Pod', 'Bad_Name', validatePod(pod));
  assert.equal(err.code, 422);
  assert.equal(err.message, `Pod "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}, spec.containers[0].name: Invalid value: "Bad_Name": ${LABEL_MSG}]`);
  const one = invalidError('Pod', 'bad', validatePod(base((_, c) => delete c.image)));
  assert.equal(one.message, 'Pod "bad" is invalid: spec.containers[0].image: Required value');
});

const FORBIDDEN_PREFIX =
  'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

test('updates: only images, activeDeadlineSeconds, new tolerations and metadata may change', () => {
  const old = stored(fixture('linkding.yaml'));
  const upd = (mut: (p: Pod) => void): string[] => {
    const p = structuredClone(old);
    mut(p);
    return render(validatePodUpdate(p, old));
  };
  assert.deepEqual(upd(() => {}), []);
  assert.deepEqual(upd((p) => (p.spec!.containers[0].image = 'sissbruecker/linkding:1.31.0')), []);
  assert.deepEqual(upd((p) => (p.metadata!.labels = { app: 'linkding' })), []);
  assert.deepEqual(upd((p) => (p.spec!.activeDeadlineSeconds = 60)), []);
  assert.deepEqual(
    upd((p) => p.spec!.tolerations!.push({ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' })),
    [],
  );
  assert.deepEqual(upd((p) => (p.spec!.tolerations![0].tolerationSeconds = 10)), []);
  assert.deepEqual(upd((p) => (p.spec!.tolerations![0].key = 'other')), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);
  assert.deepEqual(upd((p) => p.spec!.containers.push({ ...structuredClone(p.spec!.containers[0]), name: 'two' })), [
    'spec.containers: Forbidden: pod updates may not add or remove containers',
  ]);
  assert.deepEqual(upd((p) => (p.spec!.containers[0].image = '')), ['spec.containers[0].image: Required value', 'spec.containers[0].image: Required value']);
  const portChange = upd((p) => (p.spec!.containers[0].ports![0].containerPort = 9091));
  assert.equal(portChange.length, 1);
  assert.equal(portChange[0], `${FORBIDDEN_PREFIX}\n  spec.containers[0].ports[0].containerPort: 9090 -> 9091`);
  assert.deepEqual(upd((p) => (p.metadata!.name = 'other')), ['metadata.name: Invalid value: "other": field is immutable']);
  // Spelling out a zero value is not a change.
  assert.deepEqual(upd((p) => (p.spec!.hostNetwork = false)), []);
});

test('activeDeadlineSeconds may be set or lowered, never raised or removed', () => {
  const old = stored(fixture('linkding.yaml'));
  old.spec!.activeDeadlineSeconds = 100;
  const upd = (v: number | undefined): string[] => {
    const p = structuredClone(old);
    if (v === undefined) delete p.spec!.activeDeadlineSeconds;
    else p.spec!.activeDeadlineSeconds = v;
    return render(validatePodUpdate(p, old));
  };
  assert.deepEqual(upd(50), []);
  assert.deepEqual(upd(200), ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']);
  assert.deepEqual(upd(undefined), ['spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value']);
});

test('status updates', () => {
  const old = stored(fixture('linkding.yaml'));
  old.spec!.restartPolicy = 'Never';
  old.status = {
    phase: 'Failed',
    qosClass: 'BestEffort',
    containerStatuses: [{ name: 'linkding', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode: 1 } } }],
  };
  const upd = (mut: (p: Pod) => void): string[] => {
    const p = structuredClone(old);
    mut(p);
    return render(validatePodStatusUpdate(p, old));
  };
  assert.deepEqual(upd((p) => (p.status!.podIPs = [{ ip: '10.42.0.66' }])), []);
  assert.deepEqual(upd((p) => (p.status!.qosClass = 'Burstable')), ['status.qosClass: Invalid value: "Burstable": field is immutable']);
  assert.deepEqual(upd((p) => (p.spec!.nodeName = 'n1')), ['status.nodeName: Forbidden: may not be changed directly']);
  assert.deepEqual(upd((p) => (p.status!.containerStatuses![0].state = { running: {} })), [
    'status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state',
  ]);
  assert.deepEqual(upd((p) => (p.status!.podIPs = [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }])), [
    'status.podIPs: Invalid value: [{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}]: may specify no more than one IP for each IP family',
  ]);
});

test('null list elements (decoded as empty structs by Kubernetes) are reported, not thrown', () => {
  const pod = {
    metadata: { name: 'web', namespace: 'default', ownerReferences: [null], finalizers: [null] },
    spec: {
      containers: [null, { name: 'app', image: 'busybox', ports: [null], env: [null], volumeMounts: [null] }],
      volumes: [null, { name: 'p', projected: { sources: [null] } }],
      tolerations: [null],
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'z', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchExpressions: [null] } }],
    },
    status: { podIPs: [null] },
  } as unknown as Pod;
  defaultPod(pod);
  const errs = render(validatePod(pod));
  assert.ok(errs.includes('spec.containers[0].name: Required value'));
  assert.ok(errs.includes('spec.volumes[0]: Required value: must specify a volume type'));
  assert.ok(errs.includes('spec.containers[1].ports[0].containerPort: Required value'));
  assert.doesNotThrow(() => validatePodStatusUpdate(pod, pod));
});
