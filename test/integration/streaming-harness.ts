// Shared setup of the streaming integration tests: a private containerd with real pods, the node
// agent's streaming server on it, an in-process API server with the connect handler, Node and Pod
// objects that point at the agent (the test plays the rest of the node agent), and the real kubectl.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { createApiServer } from '../../src/apiserver/server.ts';
import { createAuthenticator, createSecureServerOptions, isAnonymousPath } from '../../src/apiserver/auth/authn.ts';
import { adminEntries, kubeconfigYaml, serverUrl } from '../../src/apiserver/auth/kubeconfig.ts';
import { issueClientCert, issueServingCert } from '../../src/apiserver/auth/pki.ts';
import { AGENT_CLIENT_CN, createConnectHandler } from '../../src/apiserver/connect/index.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import { startTestContainerd, type TestContainerd } from '../../src/kubelet/containerd/testing.ts';
import type { PodSandboxConfig } from '../../src/kubelet/runtime/runtime.ts';
import { BUSYBOX_IMAGE } from '../../src/kubelet/images/builtin.ts';
import { createStreamingServer, type StreamingServer } from '../../src/kubelet/streaming/server.ts';
import type { StreamingPod } from '../../src/kubelet/streaming/pods.ts';
import type { Pod } from '../../src/api/types.ts';

export const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
export const NODE = 'node1';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PodContainerSpec {
  name: string;
  /** Keep stdin open for attach (spec.stdin and CRI stdin, stdinOnce). */
  stdin?: boolean;
  /** One argv per instance: instance i logs to i.log; all but the last must exit by themselves. */
  instances: string[][];
}

export interface StreamingEnv {
  dir: string;
  tc: TestContainerd;
  cp: ControlPlane;
  agent: StreamingServer;
  client: ApiClient;
  kubeconfig: string;
  /** The API server (with the connect handler) URL. */
  url: string;
  kubectl(args: string[], opts?: { stdin?: string | Buffer; env?: Record<string, string>; timeoutMs?: number; cwd?: string }): Promise<KubectlResult>;
  /** The full kubectl command line (for wrapping it, e.g. in script(1) for a TTY). */
  kubectlArgv(args: string[]): string[];
  /** Runs any command with the test's HOME; resolves with its output. */
  run(cmd: string, args: string[], opts?: { stdin?: string }): Promise<KubectlResult>;
  /** Starts kubectl and leaves it running. */
  spawnKubectl(args: string[], env?: Record<string, string>): ChildProcess;
  /** Creates the Pod object, runs its sandbox and containers, and publishes a Running status. */
  /** Upgraded connections (exec, attach, port-forward) the API server still holds. */
  openUpgrades(): string[];
  /** What the API server does on shutdown: ends every upgraded connection. */
  closeUpgrades(): void;
  runPod(name: string, containers: PodContainerSpec[]): Promise<{ uid: string; sandboxId: string; containerIds: Record<string, string[]> }>;
  close(): Promise<void>;
}

function waitExit(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));
}

export async function startStreamingEnv(): Promise<StreamingEnv> {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        console.error('streaming env cleanup:', err);
      }
    }
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), 'tk-streaming-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tc = await startTestContainerd({ after: (fn) => void cleanups.push(fn) });
    const logRoot = join(dir, 'pods');
    mkdirSync(logRoot, { recursive: true });

    const cp = await startControlPlane({ dataDir: join(dir, 'cp'), listen: '127.0.0.1:0' });
    cleanups.push(() => cp.close());

    // The API server with the connect handler. `startControlPlane` does not take one yet, so the test
    // serves the same registry, PKI and authenticator through a second front that has it.
    const apiClientCert = await issueClientCert(cp.pki, AGENT_CLIENT_CN, ['system:masters']);
    const connect = createConnectHandler({ tls: { ca: cp.pki.caCertPem, cert: apiClientCert.certPem, key: apiClientCert.keyPem } });
    const authn = createAuthenticator(cp.pki);
    const api = createApiServer({ registry: cp.registry, authenticate: (req) => authn.authenticate(req), isAnonymousPath, connect });
    const front: Server = createServer(createSecureServerOptions(cp.pki), (req, res) => api.handle(req, res));
    const upgraded = new Map<Duplex, string>();
    front.on('upgrade', (req, socket, head) => {
      upgraded.set(socket, `${req.method} ${req.url} ${req.headers.upgrade}`);
      socket.on('close', () => upgraded.delete(socket));
      api.upgrade(req, socket, head);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => {
      // Upgraded sockets are not the HTTPS server's any more: the handler ends them (the tests assert
      // none is left behind once kubectl exited, see openUpgrades).
      connect.close();
      api.close();
      front.close(() => r());
      front.closeAllConnections();
    }));
    const url = serverUrl('127.0.0.1', (front.address() as AddressInfo).port);
    const { cluster, user, context } = adminEntries(cp.pki, url);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(cluster, user, context), { mode: 0o600 });
    const client = ApiClient.fromKubeconfig(kubeconfig);
    cleanups.push(() => client.close());

    // The node agent's streaming server, on the pods this test runs.
    const pods = new Map<string, StreamingPod>();
    const serving = await issueServingCert(cp.pki, NODE, ['127.0.0.1']);
    const agent = createStreamingServer({
      runtime: tc.runtime,
      logRoot,
      resolvePod: (ns, name) => pods.get(`${ns}/${name}`),
      tls: { cert: serving.certPem, key: serving.keyPem, ca: cp.pki.caCertPem },
      followPollMs: 50,
    });
    const agentAddr = await agent.listen(0, '127.0.0.1');
    cleanups.push(() => agent.close());

    const node = await client.create(Nodes, undefined, { metadata: { name: NODE } });
    await client.updateStatus(Nodes, undefined, {
      ...node,
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE }],
        daemonEndpoints: { kubeletEndpoint: { Port: agentAddr.port } },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
      },
    } as never);

    const cacheDir = join(dir, 'kube-cache');
    const live = new Set<ChildProcess>();
    cleanups.push(async () => {
      for (const c of live) {
        c.kill('SIGKILL');
        await waitExit(c);
      }
    });
    const env = (extra: Record<string, string> = {}) => ({ ...process.env, HOME: dir, ...extra });

    const runPod: StreamingEnv['runPod'] = async (name, containers) => {
      const created = (await client.create(Pods, 'default', {
        metadata: { name },
        spec: { nodeName: NODE, containers: containers.map((c) => ({ name: c.name, image: BUSYBOX_IMAGE, ...(c.stdin ? { stdin: true, stdinOnce: true } : {}) })) },
      } as Pod)) as Pod;
      const uid = created.metadata!.uid!;
      const logDirectory = join(logRoot, `default_${name}_${uid}`);
      mkdirSync(logDirectory, { recursive: true });
      const sc: PodSandboxConfig = {
        metadata: { name, uid, namespace: 'default', attempt: 0 },
        hostname: name,
        logDirectory,
        linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' } } },
      };
      const sandboxId = await tc.runtime.runPodSandbox(sc);
      const containerIds: Record<string, string[]> = {};
      const statuses = [];
      const sp: StreamingPod = { uid, sandboxId, containers: {} };
      for (const c of containers) {
        containerIds[c.name] = [];
        for (const [attempt, argv] of c.instances.entries()) {
          const id = await tc.runtime.createContainer(sandboxId, { metadata: { name: c.name, attempt }, image: { image: BUSYBOX_IMAGE }, command: argv, logPath: `${c.name}/${attempt}.log`, ...(c.stdin ? { stdin: true, stdinOnce: true } : {}) }, sc);
          await tc.runtime.startContainer(id);
          containerIds[c.name]!.push(id);
          if (attempt < c.instances.length - 1) {
            // Earlier instances must have exited before the next one starts, as after a restart.
            for (let i = 0; i < 500 && (await tc.runtime.containerStatus(id)).state !== 'exited'; i++) await new Promise((r) => setTimeout(r, 10));
          }
        }
        const ids = containerIds[c.name]!;
        const restartCount = ids.length - 1;
        sp.containers[c.name] = { containerId: ids[restartCount], restartCount };
        const now = new Date().toISOString();
        statuses.push({
          name: c.name,
          image: BUSYBOX_IMAGE,
          imageID: '',
          ready: true,
          started: true,
          restartCount,
          containerID: `containerd://${ids[restartCount]}`,
          state: { running: { startedAt: now } },
          lastState: restartCount > 0 ? { terminated: { exitCode: 0, reason: 'Completed', containerID: `containerd://${ids[restartCount - 1]}`, startedAt: now, finishedAt: now } } : {},
        });
      }
      pods.set(`default/${name}`, sp);
      const latest = (await client.get(Pods, 'default', name)) as Pod;
      await client.updateStatus(Pods, 'default', { ...latest, status: { ...latest.status, phase: 'Running', containerStatuses: statuses, conditions: [{ type: 'Ready', status: 'True' }] } } as never);
      return { uid, sandboxId, containerIds };
    };

    return {
      dir,
      tc,
      cp,
      agent,
      client,
      kubeconfig,
      url,
      kubectlArgv: (args) => [kubectlBin, '--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args],
      run(cmd, args, opts = {}) {
        return new Promise((resolve) => {
          const child = execFile(cmd, args, { env: env(), timeout: 30_000, cwd: dir }, (err, stdout, stderr) => {
            live.delete(child);
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
          });
          live.add(child);
          child.stdin!.end(opts.stdin ?? '');
        });
      },
      kubectl(args, opts = {}) {
        return new Promise((resolve) => {
          const child = execFile(kubectlBin, ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], {
            env: env(opts.env), timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20, cwd: opts.cwd ?? dir, encoding: 'buffer',
          }, (err, stdout, stderr) => {
            live.delete(child);
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout: stdout.toString('latin1'), stderr: stderr.toString() });
          });
          live.add(child);
          if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
          else child.stdin!.end();
        });
      },
      spawnKubectl(args, extra) {
        const child = spawn(kubectlBin, ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { env: env(extra), cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
        live.add(child);
        child.once('exit', () => live.delete(child));
        return child;
      },
      runPod,
      openUpgrades: () => [...upgraded.values()],
      closeUpgrades: () => connect.close(),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
