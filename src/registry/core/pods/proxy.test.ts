import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../api/types.ts';
import { podProxy } from './proxy.ts';

const pod: Pod = {
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    initContainers: [{ name: 'init', ports: [{ name: 'setup', containerPort: 7000 }] }],
    containers: [{ name: 'side' }, { name: 'app', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] }],
  },
  status: { podIP: '10.42.0.7', podIPs: [{ ip: '10.42.0.7' }, { ip: 'fd00::7' }] },
} as Pod;

describe('pods/proxy location (kube-apiserver ResourceLocation)', () => {
  const cases: [string, { scheme: string; port: string }, Pod, object][] = [
    ['no port: the first declared port', { scheme: '', port: '' }, pod, { scheme: 'http', host: '10.42.0.7', port: '8080' }],
    ['a number', { scheme: '', port: '3000' }, pod, { scheme: 'http', host: '10.42.0.7', port: '3000' }],
    ['a declared name', { scheme: '', port: 'metrics' }, pod, { scheme: 'http', host: '10.42.0.7', port: '9090' }],
    ['an init container port name', { scheme: '', port: 'setup' }, pod, { scheme: 'http', host: '10.42.0.7', port: '7000' }],
    ['an unknown name is left to the dialer', { scheme: '', port: 'nope' }, pod, { scheme: 'http', host: '10.42.0.7', port: 'nope' }],
    ['https', { scheme: 'https', port: '8443' }, pod, { scheme: 'https', host: '10.42.0.7', port: '8443' }],
    ['no ports anywhere: the scheme default', { scheme: '', port: '' }, { ...pod, spec: { containers: [{ name: 'c' }] } } as Pod, { scheme: 'http', host: '10.42.0.7', port: '' }],
    ['no IP yet', { scheme: '', port: '80' }, { ...pod, status: {} } as Pod, { scheme: 'http', host: '', port: '80' }],
  ];
  for (const [name, want, p, expected] of cases) it(name, () => assert.deepEqual(podProxy.location(p, want), { to: 'address', ...expected }));
});
