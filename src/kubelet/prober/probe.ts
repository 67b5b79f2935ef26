// Running one probe once: httpGet (to the pod IP unless host is set), tcpSocket, exec (through CRI
// ExecSync), grpc (./grpc.ts), with the probe's timeout. The outcome is a value (success or failure with the message the
// kubelet would put in the Unhealthy event); nothing here throws for a failing probe.
//
// Called by the probe workers (./manager.ts), concurrently for different containers. Also used for
// lifecycle hooks' httpGet (postStart/preStop), which share the handler shapes.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, Probe } from '../../api/types.ts';
import type { RuntimeService } from '../runtime/runtime.ts';
import { CriError } from '../runtime/errors.ts';
import { grpcProbe } from './grpc.ts';

export type ProbeOutcome = { ok: true; output?: string } | { ok: false; message: string };

export interface ProbeTarget {
  podIP: string;
  containerId: string;
  container: Container;
}

/** Probe field defaults (pkg/apis/core/v1/defaults.go). */
export function probeTiming(p: Probe): { initialDelayMs: number; periodMs: number; timeoutMs: number; successThreshold: number; failureThreshold: number } {
  return {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, p.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, p.timeoutSeconds ?? 1) * 1000,
    successThreshold: Math.max(1, p.successThreshold ?? 1),
    failureThreshold: Math.max(1, p.failureThreshold ?? 3),
  };
}

/** A named port of the container, or the number itself. */
export function resolvePort(port: number | string | undefined, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

type HttpGet = NonNullable<Probe['httpGet']>;

export function httpGet(action: HttpGet, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(action.port, target.container);
  if (port === undefined) return Promise.resolve({ ok: false, message: `port ${String(action.port)} not found in container ${target.container.name}` });
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || target.podIP;
  let path = action.path ?? '/';
  if (!path.startsWith('/')) path = '/' + path;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `${scheme}://${hostPart}:${port}${path}`;
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32', accept: '*/*' };
  for (const h of action.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  const mod = scheme === 'https' ? https : http;
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (!done) {
        done = true;
        resolve(o);
      }
    };
    const req = mod.request(url, { method: 'GET', headers, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        // Like the kubelet, read at most 10 KiB of body for the message.
        if (size < 10240) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8').slice(0, 10240);
        if (code >= 200 && code < 400) finish({ ok: true, output: body });
        else finish({ ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on('error', (e) => finish({ ok: false, message: `Get "${url}": ${e.message}` }));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      finish({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, message: `Get "${url}": ${dialMessage(e, host, port)}` }));
    req.end();
  });
}

function dialMessage(e: NodeJS.ErrnoException, host: string, port: number): string {
  if (e.code === 'ECONNREFUSED') return `dial tcp ${host}:${port}: connect: connection refused`;
  if (e.code === 'EHOSTUNREACH') return `dial tcp ${host}:${port}: connect: no route to host`;
  return e.message;
}

export function tcpSocket(action: NonNullable<Probe['tcpSocket']>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(action.port, target.container);
  if (port === undefined) return Promise.resolve({ ok: false, message: `port ${String(action.port)} not found in container ${target.container.name}` });
  const host = action.host || target.podIP;
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok: true });
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, message: dialMessage(e, host, port) });
    });
  });
}

export async function execProbe(runtime: Pick<RuntimeService, 'execSync'>, command: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  try {
    const r = await runtime.execSync(target.containerId, command, Math.ceil(timeoutMs / 1000));
    const out = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
    if (r.exitCode === 0) return { ok: true, output: out };
    return { ok: false, message: out.trim() === '' ? `command ${JSON.stringify(command.join(' '))} exited with ${r.exitCode}` : out };
  } catch (err) {
    if (err instanceof CriError && err.code === 'ERR_CRI_DEADLINE_EXCEEDED') return { ok: false, message: `command ${JSON.stringify(command.join(' '))} timed out` };
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/** Runs any probe handler once. */
export function runProbe(runtime: Pick<RuntimeService, 'execSync'>, probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const { timeoutMs } = probeTiming(probe);
  if (probe.exec) return execProbe(runtime, probe.exec.command ?? [], target, timeoutMs);
  if (probe.httpGet) return httpGet(probe.httpGet, target, timeoutMs);
  if (probe.tcpSocket) return tcpSocket(probe.tcpSocket, target, timeoutMs);
  if (probe.grpc) return grpcProbe(probe.grpc, target, timeoutMs);
  return Promise.resolve({ ok: false, message: 'probe has no handler' });
}
