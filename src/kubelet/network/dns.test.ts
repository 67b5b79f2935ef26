import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types.ts';
import { MemoryEventRecorder } from '../events/recorder.ts';
import { parseResolvConf, podDns, PodDnsConfigurer, type DnsSettings, type ResolvConf } from './dns.ts';

const HOST: ResolvConf = parseResolvConf([
  '# written by the host',
  'nameserver 192.0.2.53',
  'nameserver 192.0.2.54',
  'search corp.example. lab.example',
  'options ndots:2 timeout:3',
  '',
].join('\n'));

const CLUSTER: DnsSettings = { clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local' };
const NO_DNS: DnsSettings = { clusterDNS: [], clusterDomain: 'cluster.local' };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, namespace = 'shop'): Pod {
  return { metadata: { name: 'web', namespace, uid: 'u1' }, spec: { containers: [], ...spec } };
}

const clusterSearch = ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];

describe('parseResolvConf', () => {
  it('accumulates nameservers, keeps the last search and options lines, drops trailing dots', () => {
    assert.deepEqual(HOST, { servers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example', 'lab.example'], options: ['ndots:2', 'timeout:3'] });
    assert.deepEqual(parseResolvConf('search a\nsearch b c\noptions x\noptions y\n'), { servers: [], searches: ['b', 'c'], options: ['y'] });
  });
});

describe('podDns', () => {
  const cases: { name: string; pod: Pod; settings?: DnsSettings; host?: ResolvConf; want: ResolvConf; reasons?: string[] }[] = [
    {
      name: 'ClusterFirst (the default): cluster DNS only, cluster searches then the host ones, ndots:5',
      pod: pod(),
      want: { servers: ['10.43.0.10'], searches: [...clusterSearch, 'corp.example', 'lab.example'], options: ['ndots:5'] },
    },
    {
      name: 'ClusterFirst on a hostNetwork pod falls back to Default',
      pod: pod({ dnsPolicy: 'ClusterFirst', hostNetwork: true }),
      want: HOST,
    },
    {
      name: 'ClusterFirstWithHostNet on a hostNetwork pod uses the cluster DNS',
      pod: pod({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }),
      want: { servers: ['10.43.0.10'], searches: [...clusterSearch, 'corp.example', 'lab.example'], options: ['ndots:5'] },
    },
    {
      name: 'Default: the node resolv.conf as it is',
      pod: pod({ dnsPolicy: 'Default' }),
      want: HOST,
    },
    {
      name: 'None: only dnsConfig',
      pod: pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['x.example'], options: [{ name: 'edns0' }] } }),
      want: { servers: ['9.9.9.9'], searches: ['x.example'], options: ['edns0'] },
    },
    {
      name: 'dnsConfig merges: nameservers and searches appended without duplicates, options replaced by name',
      pod: pod({ dnsConfig: { nameservers: ['10.43.0.10', '1.1.1.1'], searches: ['svc.cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }),
      want: { servers: ['10.43.0.10', '1.1.1.1'], searches: [...clusterSearch, 'corp.example', 'lab.example', 'extra.example'], options: ['ndots:2', 'edns0'] },
    },
    {
      name: 'host search domains equal to the cluster ones are listed once',
      pod: pod({}, 'default'),
      host: { servers: ['192.0.2.53'], searches: ['cluster.local', 'corp.example'], options: [] },
      want: { servers: ['10.43.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], options: ['ndots:5'] },
    },
    {
      name: 'another cluster domain',
      pod: pod(),
      settings: { clusterDNS: ['10.96.0.10'], clusterDomain: 'k8s.internal' },
      host: { servers: [], searches: [], options: [] },
      want: { servers: ['10.96.0.10'], searches: ['shop.svc.k8s.internal', 'svc.k8s.internal', 'k8s.internal'], options: ['ndots:5'] },
    },
    {
      name: 'no cluster DNS: ClusterFirst becomes Default, with MissingClusterDNS on the node and on the pod',
      pod: pod(),
      settings: NO_DNS,
      want: HOST,
      reasons: ['node:MissingClusterDNS', 'pod:MissingClusterDNS'],
    },
    {
      name: 'more than 3 nameservers are cut, with DNSConfigForming',
      pod: pod({ dnsPolicy: 'Default', dnsConfig: { nameservers: ['1.1.1.1', '8.8.8.8'] } }),
      want: { servers: ['192.0.2.53', '192.0.2.54', '1.1.1.1'], searches: HOST.searches, options: HOST.options },
      reasons: ['pod:DNSConfigForming'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = podDns(c.pod, c.settings ?? CLUSTER, c.host ?? HOST);
      assert.deepEqual(r.config, c.want);
      assert.deepEqual(r.warnings.map((w) => `${w.node ? 'node' : 'pod'}:${w.reason}`), c.reasons ?? []);
    });
  }

  it('cuts the search list to 32 domains and 2048 characters, and drops domains over 253 characters', () => {
    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const r = podDns(pod({ dnsPolicy: 'None', dnsConfig: { searches: many } }), CLUSTER, HOST);
    assert.deepEqual(r.config.searches, many.slice(0, 32));
    assert.equal(r.warnings[0].message, `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${many.slice(0, 32).join(' ')}`);

    const long = Array.from({ length: 10 }, (_, i) => `${String(i).padStart(2, '0')}${'a'.repeat(250)}`);
    const r2 = podDns(pod({ dnsPolicy: 'None', dnsConfig: { searches: [...long, 'b'.repeat(300)] } }), CLUSTER, HOST);
    // 8 domains of 252 characters and their 7 spaces make 2023 characters; a ninth would pass 2048.
    assert.deepEqual(r2.config.searches, long.slice(0, 8));
    assert.equal(r2.warnings.length, 1);
  });
});

describe('PodDnsConfigurer', () => {
  it('reads the host resolver each time and records the warnings as Events on the node and the pod', () => {
    const recorder = new MemoryEventRecorder();
    let host: ResolvConf = { servers: ['192.0.2.1'], searches: [], options: [] };
    const d = new PodDnsConfigurer({ nodeName: 'n1', clusterDNS: [], readHost: () => host, recorder });
    assert.deepEqual(d.forPod(pod()).servers, ['192.0.2.1']);
    host = { servers: ['192.0.2.2'], searches: [], options: [] };
    assert.deepEqual(d.forPod(pod()).servers, ['192.0.2.2']);
    const seen = recorder.events.map((e) => `${e.obj.kind}/${e.obj.name}:${e.type}:${e.reason}`);
    assert.deepEqual(seen.slice(0, 2), ['Node/n1:Warning:MissingClusterDNS', 'Pod/web:Warning:MissingClusterDNS']);
    assert.equal(recorder.events[1].message, 'pod: "web_shop(u1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.');
  });

  it('defaults to cluster.local and records nothing with a cluster DNS', () => {
    const recorder = new MemoryEventRecorder();
    const d = new PodDnsConfigurer({ nodeName: 'n1', clusterDNS: ['10.43.0.10'], readHost: () => HOST, recorder });
    assert.deepEqual(d.forPod(pod()).searches.slice(0, 3), clusterSearch);
    assert.equal(recorder.events.length, 0);
  });
});
