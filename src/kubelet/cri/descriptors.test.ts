// The generated gRPC descriptors against their .proto files: each module is what its .proto gives now
// (regenerated and compared, so neither can change without the other), and GrpcMethods encodes and
// decodes exactly as @grpc/proto-loader does from the .proto itself, with each client's options, for
// every method of every service (defaults of every response) and for full messages (int64 beyond 2^53,
// enums, maps, nested and repeated messages, bytes).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as protoLoader from '@grpc/proto-loader';
import { relative } from 'node:path';
import { DESCRIPTORS, staleDescriptors } from './descriptors.ts';
import { GrpcMethods } from './grpc-methods.ts';
import { CRI_API } from './api.descriptor.ts';
import { CONTAINERD_CONTENT } from '../images/content.descriptor.ts';
import { GRPC_HEALTH } from '../prober/health.descriptor.ts';

// Each client's conversion options (cri/client.ts, images/progress.ts, prober/grpc.ts).
const cases = [
  { proto: 'api.proto', descriptor: CRI_API, options: { longs: String, enums: String, defaults: true, arrays: true, objects: true } },
  { proto: 'content.proto', descriptor: CONTAINERD_CONTENT, options: { longs: Number, defaults: true, arrays: true } },
  { proto: 'health.proto', descriptor: GRPC_HEALTH, options: { enums: String, defaults: true } },
];

function protoFile(name: string): string {
  const d = DESCRIPTORS.find((x) => x.proto.endsWith(`/${name}`));
  assert.ok(d, name);
  return d.proto;
}

function services(def: protoLoader.PackageDefinition): [string, protoLoader.ServiceDefinition][] {
  return Object.entries(def).filter(([, v]) => !('format' in v)) as [string, protoLoader.ServiceDefinition][];
}

describe('generated gRPC descriptors', () => {
  it('match their .proto files (run scripts/gen-grpc-descriptors.ts after changing one)', () => {
    assert.deepEqual(staleDescriptors().map((d) => relative(process.cwd(), d.module)), []);
  });

  for (const c of cases) {
    it(`${c.proto}: every method decodes an empty response and encodes an empty request as proto-loader does`, () => {
      const def = protoLoader.loadSync(protoFile(c.proto), { keepCase: false, ...c.options });
      const methods = new GrpcMethods(c.descriptor, c.options);
      let n = 0;
      for (const [service, methodsOf] of services(def)) {
        for (const [name, want] of Object.entries(methodsOf)) {
          const got = methods.unary<object, unknown>(service, name);
          assert.ok(got, `${service}/${name}`);
          assert.equal(got.path, want.path);
          assert.deepEqual(got.responseDeserialize(Buffer.alloc(0)), want.responseDeserialize(Buffer.alloc(0)), `${service}/${name} response defaults`);
          assert.deepEqual(got.requestSerialize({}), want.requestSerialize({}));
          n++;
        }
      }
      assert.ok(n > 0);
    });
  }

  it('encode and decode full CRI messages as proto-loader does', () => {
    const def = protoLoader.loadSync(protoFile('api.proto'), { keepCase: false, ...cases[0]!.options });
    const methods = new GrpcMethods(CRI_API, cases[0]!.options);
    const rt = def['runtime.v1.RuntimeService'] as protoLoader.ServiceDefinition;
    const samples: [string, object, object][] = [
      [
        'ContainerStatus',
        { containerId: 'c1', verbose: true },
        {
          status: {
            id: 'c1', metadata: { name: 'app', attempt: 3 }, state: 'CONTAINER_EXITED',
            createdAt: '1733558400123456789', startedAt: '1733558401123456789', finishedAt: '9007199254740993123', exitCode: 137,
            image: { image: 'docker.io/library/busybox:latest', annotations: { a: 'b' } }, imageRef: 'sha256:abc', reason: 'OOMKilled',
            labels: { 'io.kubernetes.pod.name': 'p' }, mounts: [{ containerPath: '/data', hostPath: '/var/x', readonly: true, propagation: 'PROPAGATION_BIDIRECTIONAL' }],
            logPath: '/var/log/pods/x/app/3.log', resources: { linux: { cpuQuota: '50000', memoryLimitInBytes: '134217728', unified: { 'memory.high': '1' } } },
          },
          info: { info: '{}' },
        },
      ],
      ['ExecSync', { containerId: 'c1', cmd: ['sh', '-c', 'echo hi'], timeout: 5 }, { stdout: Buffer.from('hi\n'), stderr: Buffer.from([0, 255]), exitCode: 2 }],
      ['ListPodSandbox', { filter: { state: { state: 'SANDBOX_READY' }, labelSelector: { app: 'x' } } }, { items: [{ id: 's', state: 'SANDBOX_NOTREADY', createdAt: '1', labels: { a: '1' } }, { id: 't' }] }],
    ];
    for (const [name, request, response] of samples) {
      const want = rt[name]!;
      const got = methods.unary<object, unknown>('runtime.v1.RuntimeService', name)!;
      assert.deepEqual(got.requestSerialize(request), want.requestSerialize(request), `${name} request`);
      const wire = want.responseSerialize(response);
      assert.deepEqual(got.responseDeserialize(wire), want.responseDeserialize(wire), `${name} response`);
    }
    // An int64 beyond 2^53 stays exact (what longs: String is for).
    const wire = rt.ContainerStatus!.responseSerialize({ status: { finishedAt: '9007199254740993123' } });
    assert.equal((methods.unary<object, { status: { finishedAt: string } }>('runtime.v1.RuntimeService', 'ContainerStatus')!.responseDeserialize(wire)).status.finishedAt, '9007199254740993123');
  });

  it('has no method the descriptor lacks, nor streaming ones', () => {
    const methods = new GrpcMethods(CRI_API, {});
    assert.equal(methods.unary('runtime.v1.RuntimeService', 'GetContainerEvents'), undefined);
    assert.equal(methods.unary('runtime.v1.NoSuchService', 'Version'), undefined);
    assert.equal(methods.unary('runtime.v1.VersionRequest', 'Version'), undefined);
  });

  it('refuses an array as a request, as proto-loader does', () => {
    const m = new GrpcMethods(GRPC_HEALTH, {}).unary<unknown, unknown>('grpc.health.v1.Health', 'Check')!;
    assert.throws(() => m.requestSerialize([]), /expected object with HealthCheckRequest structure, got array/);
  });
});
