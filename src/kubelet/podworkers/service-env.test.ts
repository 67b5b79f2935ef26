// Service environment variables and pod DNS through the pod worker over the FakeRuntime: what reaches
// CreateContainer and RunPodSandbox, in the kubelet's order and precedence.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../api/types.ts';
import type { ContainerConfig, PodSandboxConfig } from '../runtime/runtime.ts';
import { MemoryEventRecorder } from '../events/recorder.ts';
import type { ServiceLister } from '../envvars/envvars.ts';
import { PodDnsConfigurer } from '../network/dns.ts';
import { makePod, makeStack, type Stack } from './testing.ts';

class FakeServices implements ServiceLister {
  synced = true;
  services: Service[] = [];
  hasSynced(): boolean {
    return this.synced;
  }
  list(): readonly Service[] {
    return this.services;
  }
}

const kubernetes: Service = { metadata: { namespace: 'default', name: 'kubernetes' }, spec: { clusterIP: '10.43.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } };
const redis: Service = { metadata: { namespace: 'default', name: 'redis-primary' }, spec: { clusterIP: '10.0.0.11', ports: [{ port: 6379, protocol: 'TCP' }] } };

function created(s: Stack): ContainerConfig {
  return s.runtime.calls.find((c) => c.method === 'createContainer')!.args[1] as ContainerConfig;
}

async function withStack(opts: Parameters<typeof makeStack>[0], fn: (s: Stack) => Promise<void>): Promise<void> {
  const s = makeStack(opts);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

describe('service environment variables in containers', () => {
  it('follow the container env, which overrides them and may reference them with $(VAR), also in command and args', async () => {
    const services = new FakeServices();
    services.services = [redis, kubernetes];
    await withStack({ services }, async (s) => {
      const pod = makePod('svc-env').container({
        name: 'app',
        command: ['sh', '-c', 'echo $(REDIS_PRIMARY_SERVICE_HOST)'],
        args: ['$(KUBERNETES_SERVICE_PORT)'],
        env: [
          { name: 'REDIS_URL', value: 'redis://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)' },
          { name: 'REDIS_PRIMARY_SERVICE_PORT', value: '7000' },
          { name: 'AFTER', value: '$(REDIS_PRIMARY_SERVICE_PORT)' },
        ],
      }).build();
      s.workers.update(pod);
      await s.until(() => s.runtime.calls.some((c) => c.method === 'createContainer'), 'created');
      const cfg = created(s);
      assert.deepEqual(cfg.envs!.map((e) => [e.key, e.value]), [
        // REDIS_URL sees the service's port: the container's own is declared after it.
        ['REDIS_URL', 'redis://10.0.0.11:6379'],
        ['REDIS_PRIMARY_SERVICE_PORT', '7000'],
        ['AFTER', '7000'],
        ['KUBERNETES_SERVICE_HOST', '10.43.0.1'],
        ['KUBERNETES_SERVICE_PORT', '443'],
        ['KUBERNETES_SERVICE_PORT_HTTPS', '443'],
        ['KUBERNETES_PORT', 'tcp://10.43.0.1:443'],
        ['KUBERNETES_PORT_443_TCP', 'tcp://10.43.0.1:443'],
        ['KUBERNETES_PORT_443_TCP_PROTO', 'tcp'],
        ['KUBERNETES_PORT_443_TCP_PORT', '443'],
        ['KUBERNETES_PORT_443_TCP_ADDR', '10.43.0.1'],
        ['REDIS_PRIMARY_SERVICE_HOST', '10.0.0.11'],
        ['REDIS_PRIMARY_PORT', 'tcp://10.0.0.11:6379'],
        ['REDIS_PRIMARY_PORT_6379_TCP', 'tcp://10.0.0.11:6379'],
        ['REDIS_PRIMARY_PORT_6379_TCP_PROTO', 'tcp'],
        ['REDIS_PRIMARY_PORT_6379_TCP_PORT', '6379'],
        ['REDIS_PRIMARY_PORT_6379_TCP_ADDR', '10.0.0.11'],
      ]);
      assert.deepEqual(cfg.command, ['sh', '-c', 'echo 10.0.0.11']);
      assert.deepEqual(cfg.args, ['443']);
    });
  });

  it('enableServiceLinks false leaves only the kubernetes service', async () => {
    const services = new FakeServices();
    services.services = [redis, kubernetes];
    await withStack({ services }, async (s) => {
      const pod = makePod('no-links').container({ name: 'app' }).build();
      pod.spec!.enableServiceLinks = false;
      s.workers.update(pod);
      await s.until(() => s.runtime.calls.some((c) => c.method === 'createContainer'), 'created');
      const names = created(s).envs!.map((e) => e.key);
      assert.ok(names.includes('KUBERNETES_SERVICE_HOST'));
      assert.ok(!names.some((n) => n.startsWith('REDIS')));
    });
  });

  it('before the first list of services a container waits in CreateContainerConfigError, and starts once they are in', async () => {
    const services = new FakeServices();
    services.synced = false;
    await withStack({ services }, async (s) => {
      const pod = makePod('early').container({ name: 'app' }).build();
      s.workers.update(pod);
      await s.until(() => s.statusOf(pod) !== undefined, 'status');
      assert.deepEqual(s.statusOf(pod)!.containerStatuses![0].state?.waiting, {
        reason: 'CreateContainerConfigError',
        message: 'services have not yet been read at least once, cannot construct envvars',
      });
      services.services = [kubernetes];
      services.synced = true;
      s.workers.kick(pod.metadata!.uid!);
      await s.until(() => s.runtime.calls.some((c) => c.method === 'createContainer'), 'created');
      assert.equal(created(s).envs!.find((e) => e.key === 'KUBERNETES_SERVICE_HOST')?.value, '10.43.0.1');
    });
  });
});

describe('pod DNS in the sandbox', () => {
  it('RunPodSandbox gets the ClusterFirst resolver settings', async () => {
    const dns = new PodDnsConfigurer({ nodeName: 'node-1', clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', readHost: () => ({ servers: ['192.0.2.53'], searches: ['lab.example'], options: ['rotate'] }) });
    await withStack({ dns }, async (s) => {
      const pod = makePod('dns').container({ name: 'app' }).build();
      s.workers.update(pod);
      await s.until(() => s.runtime.calls.some((c) => c.method === 'runPodSandbox'), 'sandbox');
      const cfg = s.runtime.calls.find((c) => c.method === 'runPodSandbox')!.args[0] as PodSandboxConfig;
      assert.deepEqual(cfg.dnsConfig, { servers: ['10.43.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lab.example'], options: ['ndots:5'] });
    });
  });

  it('an agent without cluster DNS gives the node resolver and warns on the pod', async () => {
    const recorder = new MemoryEventRecorder();
    const dns = new PodDnsConfigurer({ nodeName: 'node-1', clusterDNS: [], readHost: () => ({ servers: ['192.0.2.53'], searches: [], options: [] }), recorder });
    await withStack({ dns }, async (s) => {
      const pod = makePod('nodns').container({ name: 'app' }).build();
      s.workers.update(pod);
      await s.until(() => s.runtime.calls.some((c) => c.method === 'runPodSandbox'), 'sandbox');
      const cfg = s.runtime.calls.find((c) => c.method === 'runPodSandbox')!.args[0] as PodSandboxConfig;
      assert.deepEqual(cfg.dnsConfig, { servers: ['192.0.2.53'], searches: [], options: [] });
      assert.deepEqual(recorder.events.map((e) => `${e.obj.kind}:${e.reason}`).slice(0, 2), ['Node:MissingClusterDNS', 'Pod:MissingClusterDNS']);
    });
  });
});
