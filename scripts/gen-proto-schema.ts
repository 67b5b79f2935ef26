// Regenerates src/apiserver/protobuf/schema.generated.ts: the protobuf message table of every
// built-in kind tinykube serves, extracted from Kubernetes' published message definitions.
//
//   node scripts/gen-proto-schema.ts <kubernetes checkout> [out-file]
//
// <kubernetes checkout> is a kubernetes/kubernetes tree (its staging/src/k8s.io/... is read), or a
// directory holding k8s.io/api, k8s.io/apimachinery and k8s.io/apiextensions-apiserver side by side.
// From each group's generated.proto it takes the facts of the wire format (message names, field
// numbers, scalar/message/map/repeated types); from the same group's types.go it takes what the
// JSON form needs and the .proto does not say: the JSON name (`$ref` is `ref` on the wire), whether
// the Go field is a pointer (present-but-zero is kept) and whether it lacks `omitempty` (a zero value
// is still written in JSON). Only messages reachable from the roots below are emitted.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Proto files and their Go type files, relative to the directory holding k8s.io/. */
const sources: { proto: string; go: string[] }[] = [
  { proto: 'k8s.io/api/core/v1/generated.proto', go: ['k8s.io/api/core/v1/types.go'] },
  { proto: 'k8s.io/api/coordination/v1/generated.proto', go: ['k8s.io/api/coordination/v1/types.go'] },
  { proto: 'k8s.io/api/discovery/v1/generated.proto', go: ['k8s.io/api/discovery/v1/types.go'] },
  { proto: 'k8s.io/api/scheduling/v1/generated.proto', go: ['k8s.io/api/scheduling/v1/types.go'] },
  { proto: 'k8s.io/api/storage/v1/generated.proto', go: ['k8s.io/api/storage/v1/types.go'] },
  { proto: 'k8s.io/api/policy/v1/generated.proto', go: ['k8s.io/api/policy/v1/types.go'] },
  { proto: 'k8s.io/api/rbac/v1/generated.proto', go: ['k8s.io/api/rbac/v1/types.go'] },
  { proto: 'k8s.io/api/apps/v1/generated.proto', go: ['k8s.io/api/apps/v1/types.go'] },
  { proto: 'k8s.io/api/batch/v1/generated.proto', go: ['k8s.io/api/batch/v1/types.go'] },
  { proto: 'k8s.io/api/autoscaling/v1/generated.proto', go: ['k8s.io/api/autoscaling/v1/types.go'] },
  { proto: 'k8s.io/api/authentication/v1/generated.proto', go: ['k8s.io/api/authentication/v1/types.go'] },
  { proto: 'k8s.io/api/authorization/v1/generated.proto', go: ['k8s.io/api/authorization/v1/types.go'] },
  // Job templates reach scheduling.k8s.io/v1alpha3's workload pod-group messages.
  { proto: 'k8s.io/api/scheduling/v1alpha3/generated.proto', go: ['k8s.io/api/scheduling/v1alpha3/types.go'] },
  {
    proto: 'k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/generated.proto',
    go: ['k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/types.go', 'k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/types_jsonschema.go'],
  },
  { proto: 'k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto', go: ['k8s.io/apimachinery/pkg/apis/meta/v1/types.go'] },
  { proto: 'k8s.io/apimachinery/pkg/runtime/generated.proto', go: ['k8s.io/apimachinery/pkg/runtime/types.go'] },
  { proto: 'k8s.io/apimachinery/pkg/runtime/schema/generated.proto', go: [] },
  { proto: 'k8s.io/apimachinery/pkg/api/resource/generated.proto', go: [] },
  { proto: 'k8s.io/apimachinery/pkg/util/intstr/generated.proto', go: [] },
];

/** The bodies a client may send or receive: apiVersion, kind, message. */
const servedGroupVersions = ['v1', 'apps/v1', 'batch/v1', 'coordination.k8s.io/v1', 'discovery.k8s.io/v1', 'scheduling.k8s.io/v1', 'storage.k8s.io/v1', 'policy/v1', 'rbac.authorization.k8s.io/v1', 'autoscaling/v1', 'authentication.k8s.io/v1', 'authorization.k8s.io/v1', 'apiextensions.k8s.io/v1'];
const roots: [string, string, string][] = [
  ['v1', 'Pod', 'core.v1.Pod'],
  ['v1', 'PodList', 'core.v1.PodList'],
  ['v1', 'Namespace', 'core.v1.Namespace'],
  ['v1', 'NamespaceList', 'core.v1.NamespaceList'],
  ['v1', 'Node', 'core.v1.Node'],
  ['v1', 'NodeList', 'core.v1.NodeList'],
  ['v1', 'Event', 'core.v1.Event'],
  ['v1', 'EventList', 'core.v1.EventList'],
  ['v1', 'ConfigMap', 'core.v1.ConfigMap'],
  ['v1', 'ConfigMapList', 'core.v1.ConfigMapList'],
  ['v1', 'Secret', 'core.v1.Secret'],
  ['v1', 'SecretList', 'core.v1.SecretList'],
  ['v1', 'ServiceAccount', 'core.v1.ServiceAccount'],
  ['v1', 'ServiceAccountList', 'core.v1.ServiceAccountList'],
  ['v1', 'Service', 'core.v1.Service'],
  ['v1', 'ServiceList', 'core.v1.ServiceList'],
  ['v1', 'Binding', 'core.v1.Binding'],
  ['v1', 'PersistentVolumeClaim', 'core.v1.PersistentVolumeClaim'],
  ['v1', 'PersistentVolumeClaimList', 'core.v1.PersistentVolumeClaimList'],
  ['v1', 'PersistentVolume', 'core.v1.PersistentVolume'],
  ['v1', 'PersistentVolumeList', 'core.v1.PersistentVolumeList'],
  ['v1', 'Endpoints', 'core.v1.Endpoints'],
  ['v1', 'EndpointsList', 'core.v1.EndpointsList'],
  ['discovery.k8s.io/v1', 'EndpointSlice', 'discovery.v1.EndpointSlice'],
  ['discovery.k8s.io/v1', 'EndpointSliceList', 'discovery.v1.EndpointSliceList'],
  // The workload kinds: kubectl's typed clients send them as protobuf (create deployment, create job...).
  ...['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'ControllerRevision'].flatMap((k): [string, string, string][] => [
    ['apps/v1', k, `apps.v1.${k}`],
    ['apps/v1', `${k}List`, `apps.v1.${k}List`],
  ]),
  ...['Job', 'CronJob'].flatMap((k): [string, string, string][] => [
    ['batch/v1', k, `batch.v1.${k}`],
    ['batch/v1', `${k}List`, `batch.v1.${k}List`],
  ]),
  ['policy/v1', 'PodDisruptionBudget', 'policy.v1.PodDisruptionBudget'],
  ['policy/v1', 'PodDisruptionBudgetList', 'policy.v1.PodDisruptionBudgetList'],
  ['coordination.k8s.io/v1', 'Lease', 'coordination.v1.Lease'],
  ['coordination.k8s.io/v1', 'LeaseList', 'coordination.v1.LeaseList'],
  ['scheduling.k8s.io/v1', 'PriorityClass', 'scheduling.v1.PriorityClass'],
  ['scheduling.k8s.io/v1', 'PriorityClassList', 'scheduling.v1.PriorityClassList'],
  ['storage.k8s.io/v1', 'StorageClass', 'storage.v1.StorageClass'],
  ['storage.k8s.io/v1', 'StorageClassList', 'storage.v1.StorageClassList'],
  ['policy/v1', 'Eviction', 'policy.v1.Eviction'],
  ...['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].flatMap((k): [string, string, string][] => [
    ['rbac.authorization.k8s.io/v1', k, `rbac.v1.${k}`],
    ['rbac.authorization.k8s.io/v1', `${k}List`, `rbac.v1.${k}List`],
  ]),
  ['autoscaling/v1', 'Scale', 'autoscaling.v1.Scale'],
  ['authentication.k8s.io/v1', 'SelfSubjectReview', 'authentication.v1.SelfSubjectReview'],
  ['authentication.k8s.io/v1', 'TokenRequest', 'authentication.v1.TokenRequest'],
  ['authentication.k8s.io/v1', 'TokenReview', 'authentication.v1.TokenReview'],
  // kubectl auth can-i sends its reviews as protobuf.
  ...['SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview'].map((k): [string, string, string] => ['authorization.k8s.io/v1', k, `authorization.v1.${k}`]),
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'apiextensions.v1.CustomResourceDefinition'],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinitionList', 'apiextensions.v1.CustomResourceDefinitionList'],
  // Meta kinds travel under every group version (client-go sends DeleteOptions with the resource's
  // own apiVersion) and under meta.k8s.io/v1.
  ...['meta.k8s.io/v1', ...servedGroupVersions].flatMap((gv): [string, string, string][] => [
    [gv, 'DeleteOptions', 'meta.v1.DeleteOptions'],
    [gv, 'Status', 'meta.v1.Status'],
    [gv, 'WatchEvent', 'meta.v1.WatchEvent'],
  ]),
  ['meta.k8s.io/v1', 'PartialObjectMetadata', 'meta.v1.PartialObjectMetadata'],
  ['meta.k8s.io/v1', 'PartialObjectMetadataList', 'meta.v1.PartialObjectMetadataList'],
];
/** Also emitted: the envelope. */
const extraMessages = ['runtime.Unknown', 'runtime.TypeMeta'];

interface ProtoField {
  name: string;
  number: number;
  type: string;
  repeated: boolean;
  mapKey?: string;
}

interface GoField {
  jsonName: string;
  /** An embedded Go struct with no JSON name: encoding/json puts its fields in the parent's object. */
  inline: boolean;
  pointer: boolean;
  omitempty: boolean;
}

const scalars = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'double', 'float']);

/** k8s.io.api.core.v1 → core.v1, k8s.io.apimachinery.pkg.apis.meta.v1 → meta.v1, … */
function shortPackage(pkg: string): string {
  return pkg
    .replace(/^k8s\.io\./, '')
    .replace(/^api\./, '')
    .replace(/^apimachinery\.pkg\.(apis\.|api\.|util\.)?/, '')
    .replace(/^apiextensions_apiserver\.pkg\.apis\./, '');
}

function parseProto(text: string, messages: Map<string, ProtoField[]>): void {
  const pkg = shortPackage(/^package\s+([\w.]+);/m.exec(text)?.[1] ?? fail('no package'));
  let current: ProtoField[] | undefined;
  let currentName = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    const open = /^message\s+(\w+)\s*\{$/.exec(line);
    if (open) {
      if (current) fail(`nested message in ${currentName}`);
      currentName = `${pkg}.${open[1]}`;
      current = [];
      messages.set(currentName, current);
      continue;
    }
    if (line === '}') {
      current = undefined;
      continue;
    }
    if (!current) continue;
    const map = /^map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;$/.exec(line);
    if (map) {
      current.push({ name: map[3], number: Number(map[4]), type: resolve(map[2], pkg), repeated: false, mapKey: map[1] });
      continue;
    }
    const f = /^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;$/.exec(line);
    if (f) {
      current.push({ name: f[3], number: Number(f[4]), type: resolve(f[2], pkg), repeated: f[1] === 'repeated' });
      continue;
    }
    if (/^(option|oneof|enum|reserved|extensions)\b/.test(line)) fail(`unsupported construct in ${currentName}: ${line}`);
  }
}

function resolve(type: string, pkg: string): string {
  if (scalars.has(type)) return type;
  if (type.startsWith('.')) {
    const i = type.lastIndexOf('.');
    return `${shortPackage(type.slice(1, i))}.${type.slice(i + 1)}`;
  }
  return `${pkg}.${type}`;
}

/** Go structs' fields by (message name, proto field name), and the named slice types (`type ExtraValue []string`). */
function parseGo(text: string, pkg: string, fields: Map<string, GoField>, sliceTypes: Set<string>): void {
  let struct = '';
  for (const line of text.split('\n')) {
    const open = /^type\s+(\w+)\s+struct\s*\{/.exec(line);
    if (open) {
      struct = open[1];
      continue;
    }
    const slice = /^type\s+(\w+)\s+\[\]\w+\s*$/.exec(line);
    if (slice) sliceTypes.add(`${pkg}.${slice[1]}`);
    if (/^\}/.test(line)) {
      struct = '';
      continue;
    }
    if (!struct) continue;
    const m = /^\s*(?:(\w+)\s+)?(\S+)\s+`([^`]*)`/.exec(line);
    if (!m) continue;
    const proto = /protobuf:"([^"]*)"/.exec(m[3]);
    if (!proto) continue;
    // Most tags name the proto field; EphemeralContainerCommon's gives only its number.
    const protoName = /(?:^|,)name=(\w+)/.exec(proto[1])?.[1];
    const number = proto[1].split(',')[1];
    const json = /json:"([^"]*)"/.exec(m[3])?.[1] ?? '';
    const [jsonName, ...opts] = json.split(',');
    const field: GoField = { jsonName: jsonName || protoName || '', inline: m[1] === undefined && jsonName === '', pointer: m[2].startsWith('*'), omitempty: opts.includes('omitempty') };
    if (protoName) fields.set(`${pkg}.${struct}/${protoName}`, field);
    fields.set(`${pkg}.${struct}#${number}`, field);
  }
}

function fail(why: string): never {
  throw new Error(why);
}

function main(): void {
  const [checkout, out = 'src/apiserver/protobuf/schema.generated.ts'] = process.argv.slice(2);
  if (!checkout) fail('usage: node scripts/gen-proto-schema.ts <kubernetes checkout> [out-file]');
  const base = existsSync(join(checkout, 'staging/src/k8s.io')) ? join(checkout, 'staging/src') : checkout;
  const messages = new Map<string, ProtoField[]>();
  const goFields = new Map<string, GoField>();
  const sliceTypes = new Set<string>();
  for (const s of sources) {
    const text = readFileSync(join(base, s.proto), 'utf8');
    parseProto(text, messages);
    const pkg = shortPackage(/^package\s+([\w.]+);/m.exec(text)?.[1] ?? '');
    for (const g of s.go) parseGo(readFileSync(join(base, g), 'utf8'), pkg, goFields, sliceTypes);
  }

  // Messages reachable from the roots.
  const reached = new Set<string>();
  const queue = [...roots.map((r) => r[2]), ...extraMessages];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (reached.has(name)) continue;
    const fields = messages.get(name) ?? fail(`message ${name} not found`);
    reached.add(name);
    for (const f of fields) if (!scalars.has(f.type)) queue.push(f.type);
  }

  // Fields with no Go struct field: the special types (written by hand in the codec) and the envelope.
  const unmatched: string[] = [];
  const lines: string[] = [];
  lines.push('// Generated by scripts/gen-proto-schema.ts from Kubernetes\' generated.proto and types.go files. Do not edit: rerun the script.');
  lines.push('//');
  lines.push('// Each field: [number, JSON name, type, flags]. The type is a protobuf scalar or a message of this table.');
  lines.push('// Flags: r repeated, m map (string keys; the type is the value\'s), p a Go pointer (kept when present');
  lines.push('// even if zero), k no omitempty (a zero value is still written in JSON), i inlined (its fields sit in');
  lines.push('// the parent\'s JSON object). A message with `array` is a');
  lines.push('// named Go slice type, whose JSON is its `items` field\'s list.');
  lines.push('');
  lines.push("import type { MessageTable, RootTable } from './types.ts';");
  lines.push('');
  lines.push('export const messages: MessageTable = {');
  for (const name of [...reached].sort()) {
    const fields = messages.get(name)!;
    const rows = [...fields].sort((a, b) => a.number - b.number).map((f) => {
      const go = goFields.get(`${name}/${f.name}`) ?? goFields.get(`${name}#${f.number}`);
      if (f.mapKey && f.mapKey !== 'string') fail(`${name}.${f.name}: map key ${f.mapKey}`);
      if (!go) unmatched.push(`${name}.${f.name}`);
      let flags = '';
      if (f.repeated) flags += 'r';
      if (f.mapKey) flags += 'm';
      if (go?.pointer) flags += 'p';
      if (go?.inline) flags += 'i';
      if (go && !go.pointer && !go.omitempty && !f.repeated && !f.mapKey && scalars.has(f.type)) flags += 'k';
      return `[${f.number}, ${JSON.stringify(go?.jsonName || f.name)}, ${JSON.stringify(f.type)}, ${JSON.stringify(flags)}]`;
    });
    const array = sliceTypes.has(name) ? ', array: true' : '';
    lines.push(`  ${JSON.stringify(name)}: { fields: [${rows.join(', ')}]${array} },`);
  }
  lines.push('};');
  lines.push('');
  lines.push('/** The message of each body a client may send or be sent, by "<apiVersion>/<kind>". */');
  lines.push('export const roots: RootTable = {');
  for (const [gv, kind, msg] of roots) lines.push(`  ${JSON.stringify(`${gv}/${kind}`)}: ${JSON.stringify(msg)},`);
  lines.push('};');
  lines.push('');
  writeFileSync(out, lines.join('\n'));
  console.log(`${out}: ${reached.size} messages, ${roots.length} roots`);
  if (unmatched.length > 0) console.log(`fields without a Go struct field (JSON name = proto name): ${unmatched.join(', ')}`);
}

main();
