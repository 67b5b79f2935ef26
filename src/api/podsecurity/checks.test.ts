import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, PodSpec, SecurityContext } from '../types.ts';
import { evaluate, forbiddenDetail, forbiddenReason, MAX_POLICY_MINOR } from './evaluator.ts';
import { LATEST, type Level, type Version } from './policy.ts';

// A container that passes the restricted level; cases change one thing at a time.
function c(name: string, sc: SecurityContext | null = {}, more: Partial<Container> = {}): Container {
  const base: SecurityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
  return { name, image: 'busybox', ...(sc === null ? {} : { securityContext: { ...base, ...sc } }), ...more };
}

function pod(containers: Container[], more: Partial<PodSpec> = {}): PodSpec {
  return { containers, ...more };
}

const v = (minor: number): Version => ({ latest: false, minor });

interface Case {
  name: string;
  level: Level;
  version?: Version;
  spec: PodSpec;
  annotations?: Record<string, string>;
  /** Each violation as "reason (detail)", in kube's order. */
  want: string[];
}

const cases: Case[] = [
  { name: 'privileged level allows anything', level: 'privileged', spec: pod([c('c', { privileged: true })], { hostNetwork: true }), want: [] },
  { name: 'a compliant pod passes restricted', level: 'restricted', spec: pod([c('c')]), want: [] },
  { name: 'a bare pod passes baseline', level: 'baseline', spec: pod([c('c', null)]), want: [] },

  // baseline
  { name: 'hostProcess on pod and containers', level: 'baseline', spec: pod([c('a', { windowsOptions: { hostProcess: true } }), c('b', { windowsOptions: { hostProcess: true } })], { securityContext: { windowsOptions: { hostProcess: true } } }), want: ['hostProcess (pod and containers "a", "b" must not set securityContext.windowsOptions.hostProcess=true)'] },
  { name: 'host namespaces', level: 'baseline', spec: pod([c('c')], { hostPID: true, hostNetwork: true, hostIPC: true }), want: ['host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)'] },
  { name: 'privileged container', level: 'baseline', spec: pod([c('c', { privileged: true })]), want: ['privileged (container "c" must not set securityContext.privileged=true)'] },
  { name: 'privileged init and ephemeral containers', level: 'baseline', spec: pod([c('c')], { initContainers: [c('i', { privileged: true })], ephemeralContainers: [{ ...c('e', { privileged: true }) }] }), want: ['privileged (containers "i", "e" must not set securityContext.privileged=true)'] },
  { name: 'capabilities beyond the default set', level: 'baseline', spec: pod([c('c', { capabilities: { add: ['NET_RAW', 'CHOWN', 'SYS_ADMIN'] } })]), want: ['non-default capabilities (container "c" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)'] },
  { name: 'default-set capabilities are baseline', level: 'baseline', spec: pod([c('c', { capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE', 'SYS_CHROOT'] } })]), want: [] },
  { name: 'hostPath volumes', level: 'baseline', spec: pod([c('c')], { volumes: [{ name: 'h', hostPath: { path: '/' } }, { name: 'e', emptyDir: {} }, { name: 'h2', hostPath: { path: '/x' } }] }), want: ['hostPath volumes (volumes "h", "h2")'] },
  { name: 'host ports, sorted as strings', level: 'baseline', spec: pod([c('a', {}, { ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 90, hostPort: 10000 }] }), c('b', {}, { ports: [{ containerPort: 81 }] })]), want: ['hostPort (container "a" uses hostPorts 10000, 8080)'] },
  { name: 'host port in two containers', level: 'baseline', spec: pod([c('a', {}, { ports: [{ containerPort: 80, hostPort: 80 }] }), c('b', {}, { ports: [{ containerPort: 80, hostPort: 80 }] })]), want: ['hostPort (containers "a", "b" use hostPort 80)'] },
  { name: 'AppArmor Unconfined field on pod and container', level: 'baseline', spec: pod([c('c', { appArmorProfile: { type: 'Unconfined' } })], { securityContext: { appArmorProfile: { type: 'Unconfined' } } }), want: ['forbidden AppArmor profile (pod and container "c" must not set AppArmor profile type to "Unconfined")'] },
  { name: 'AppArmor annotation', level: 'baseline', spec: pod([c('c')]), annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined', 'container.apparmor.security.beta.kubernetes.io/d': 'localhost/ok' }, // kube's joinQuote does not escape the quotes of the annotation's value.
    want: ['forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/c="unconfined"")'] },
  { name: 'AppArmor RuntimeDefault and Localhost are allowed', level: 'baseline', spec: pod([c('c', { appArmorProfile: { type: 'Localhost', localhostProfile: 'p' } })], { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } }), want: [] },
  { name: 'SELinux type', level: 'baseline', spec: pod([c('c', { seLinuxOptions: { type: 'spc_t' } })]), want: ['seLinuxOptions (container "c" set forbidden securityContext.seLinuxOptions: type "spc_t")'] },
  { name: 'SELinux type, user and role on the pod', level: 'baseline', spec: pod([c('c')], { securityContext: { seLinuxOptions: { type: 'spc_t', user: 'u', role: 'r' } } }), want: ['seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)'] },
  { name: 'SELinux user alone is refused without a detail, as kube', level: 'baseline', spec: pod([c('c', { seLinuxOptions: { user: 'u' } })]), want: ['seLinuxOptions (container "c" set forbidden securityContext.seLinuxOptions: )'] },
  { name: 'SELinux allowed types', level: 'baseline', spec: pod([c('c', { seLinuxOptions: { type: 'container_init_t', level: 's0:c1' } })]), want: [] },
  { name: '/proc mount Unmasked', level: 'baseline', spec: pod([c('c', { procMount: 'Unmasked' })]), want: ['procMount (container "c" must not set securityContext.procMount to "Unmasked")'] },
  { name: 'seccomp Unconfined', level: 'baseline', spec: pod([c('c', { seccompProfile: { type: 'Unconfined' } })], { securityContext: { seccompProfile: { type: 'Unconfined' } } }), want: ['seccompProfile (pod and container "c" must not set securityContext.seccompProfile.type to "Unconfined")'] },
  { name: 'seccomp unset is baseline', level: 'baseline', spec: pod([c('c', { seccompProfile: undefined })]), want: [] },
  { name: 'seccomp annotations before policy 1.19', level: 'baseline', version: v(18), spec: pod([c('c')]), annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined', 'container.seccomp.security.alpha.kubernetes.io/c': 'runtime/default' }, want: ['seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")'] },
  { name: 'unsafe sysctls', level: 'baseline', spec: pod([c('c')], { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'vm.swappiness', value: '1' }] } }), want: ['forbidden sysctls (kernel.msgmax, vm.swappiness)'] },
  { name: 'sysctls safe since 1.32', level: 'baseline', spec: pod([c('c')], { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '1 2 3' }, { name: 'net.ipv4.tcp_keepalive_time', value: '1' }] } }), want: [] },
  { name: 'sysctls at policy 1.28', level: 'baseline', version: v(28), spec: pod([c('c')], { securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_reserved_ports', value: '1' }, { name: 'net.ipv4.tcp_keepalive_time', value: '1' }] } }), want: ['forbidden sysctls (net.ipv4.tcp_keepalive_time)'] },
  // kube orders results by check id: capabilities_baseline, hostNamespaces, hostPathVolumes, hostPorts, privileged, procMount...
  { name: 'all baseline violations in kube order', level: 'baseline', spec: pod([c('c', { privileged: true, procMount: 'Unmasked', capabilities: { add: ['SYS_ADMIN'] } }, { ports: [{ containerPort: 1, hostPort: 1 }] })], { hostNetwork: true, volumes: [{ name: 'h', hostPath: { path: '/' } }] }), want: [
    'non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    'host namespaces (hostNetwork=true)',
    'hostPath volumes (volume "h")',
    'hostPort (container "c" uses hostPort 1)',
    'privileged (container "c" must not set securityContext.privileged=true)',
    'procMount (container "c" must not set securityContext.procMount to "Unmasked")',
  ] },

  // restricted
  { name: 'a bare pod violates restricted', level: 'restricted', spec: pod([c('c', null)]), want: [
    'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
    'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])',
    'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)',
    'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  ] },
  { name: 'allowPrivilegeEscalation true', level: 'restricted', spec: pod([c('c', { allowPrivilegeEscalation: true })]), want: ['allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)'] },
  { name: 'capabilities: only NET_BIND_SERVICE may be added', level: 'restricted', spec: pod([c('a', { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'CHOWN'] } }), c('b', { capabilities: { drop: ['NET_RAW'] } })]), want: ['unrestricted capabilities (container "b" must set securityContext.capabilities.drop=["ALL"]; container "a" must not include "CHOWN" in securityContext.capabilities.add)'] },
  { name: 'capabilities replace the baseline capability check', level: 'restricted', spec: pod([c('a', { capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } })]), want: ['unrestricted capabilities (container "a" must not include "SYS_ADMIN" in securityContext.capabilities.add)'] },
  { name: 'before 1.22 restricted has the baseline capability check', level: 'restricted', version: v(21), spec: pod([c('a', { capabilities: { add: ['SYS_ADMIN'] } })]), want: ['non-default capabilities (container "a" must not include "SYS_ADMIN" in securityContext.capabilities.add)'] },
  { name: 'restricted volume types', level: 'restricted', spec: pod([c('c')], { volumes: [{ name: 'h', hostPath: { path: '/' } }, { name: 'n', nfs: { server: 's', path: '/' } }, { name: 'ok', configMap: { name: 'x' } }, { name: 'p', projected: { sources: [] } }] }), want: ['restricted volume types (volumes "h", "n" use restricted volume types "hostPath", "nfs")'] },
  { name: 'one restricted volume', level: 'restricted', spec: pod([c('c')], { volumes: [{ name: 'g', gitRepo: { repository: 'r' } }] }), want: ['restricted volume types (volume "g" uses restricted volume type "gitRepo")'] },
  { name: 'runAsNonRoot false on the pod', level: 'restricted', spec: pod([c('c', { runAsNonRoot: undefined })], { securityContext: { runAsNonRoot: false } }), want: ['runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)'] },
  { name: 'runAsNonRoot on the pod covers containers', level: 'restricted', spec: pod([c('c', { runAsNonRoot: undefined })], { securityContext: { runAsNonRoot: true } }), want: [] },
  { name: 'runAsNonRoot false on a container', level: 'restricted', spec: pod([c('a', { runAsNonRoot: false }), c('b', { runAsNonRoot: undefined })]), want: ['runAsNonRoot != true (container "a" must not set securityContext.runAsNonRoot=false)'] },
  { name: 'runAsUser 0', level: 'restricted', spec: pod([c('c', { runAsUser: 0 })], { securityContext: { runAsUser: 0 } }), want: ['runAsUser=0 (pod and container "c" must not set runAsUser=0)'] },
  { name: 'runAsUser 0 is not checked before 1.23', level: 'restricted', version: v(22), spec: pod([c('c', { runAsUser: 0 })]), want: [] },
  { name: 'seccomp on the pod covers containers', level: 'restricted', spec: pod([c('c', { seccompProfile: undefined })], { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p' } } }), want: [] },
  { name: 'seccomp Unconfined on a container replaces the baseline check', level: 'restricted', spec: pod([c('c', { seccompProfile: { type: 'Unconfined' } })]), want: ['seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")'] },
  { name: 'Windows pods skip three restricted checks since 1.25', level: 'restricted', spec: pod([c('c', { allowPrivilegeEscalation: undefined, capabilities: undefined, seccompProfile: undefined })], { os: { name: 'windows' } }), want: [] },
  { name: 'Windows pods before 1.25', level: 'restricted', version: v(24), spec: pod([c('c', { allowPrivilegeEscalation: undefined })], { os: { name: 'windows' } }), want: ['allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)'] },
  { name: 'a privileged pod in a restricted namespace', level: 'restricted', spec: pod([c('c', null, { securityContext: { privileged: true } })]), want: [
    'privileged (container "c" must not set securityContext.privileged=true)',
    'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
    'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])',
    'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)',
    'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  ] },
];

describe('Pod Security checks', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const r = evaluate({ level: tc.level, version: tc.version ?? LATEST }, { name: 'p', annotations: tc.annotations }, tc.spec);
      const got = r.forbiddenReasons.map((reason, i) => (r.forbiddenDetails[i] ? `${reason} (${r.forbiddenDetails[i]})` : reason));
      assert.deepEqual(got, tc.want);
      assert.equal(r.allowed, tc.want.length === 0);
    });
  }

  it('joins reasons and details as kube prints them', () => {
    const r = evaluate({ level: 'baseline', version: LATEST }, {}, pod([c('c', { privileged: true })], { hostPID: true }));
    assert.equal(forbiddenReason(r), 'host namespaces, privileged');
    assert.equal(forbiddenDetail(r), 'host namespaces (hostPID=true), privileged (container "c" must not set securityContext.privileged=true)');
  });

  it('a version past the newest check evaluates as latest', () => {
    const spec = pod([c('c')], { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_wmem', value: '1' }] } });
    assert.equal(MAX_POLICY_MINOR, 32);
    assert.equal(evaluate({ level: 'baseline', version: v(40) }, {}, spec).allowed, true);
    assert.equal(evaluate({ level: 'baseline', version: v(31) }, {}, spec).allowed, false);
  });
});
