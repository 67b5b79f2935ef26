// gRPC probes as the kubelet runs them (pkg/probe/grpc): grpc.health.v1.Health/Check on the pod IP,
// plaintext HTTP/2 dialed directly (never through a proxy), one deadline (the probe's timeout) covering both connecting and the call. Like
// grpc-go's blocking dial, connecting waits for a ready connection until the deadline, so a refused
// port fails as a connect timeout, not at once. Only SERVING passes. Messages are the kubelet's words.
//
// Called by runProbe (./probe.ts), concurrently for different containers. Each probe has its own
// channel and connection, closed when the probe ends, so nothing (socket, reconnect timer) outlives it.
import * as grpc from '@grpc/grpc-js';
import type { Socket } from 'node:net';
import type { Probe } from '../../api/types.ts';
import { GrpcMethods } from '../cri/grpc-methods.ts';
import { GRPC_HEALTH } from './health.descriptor.ts';
import type { ProbeOutcome, ProbeTarget } from './probe.ts';

interface CheckRequest {
  service: string;
}
interface CheckResponse {
  status: string;
}

const methods = new GrpcMethods(GRPC_HEALTH, { enums: String, defaults: true });

type SecureConnector = ReturnType<grpc.ChannelCredentials['_createSecureConnector']>;

/**
 * Plaintext credentials that keep the sockets handed to them. grpc-js (1.14) never closes a connection
 * whose peer accepted TCP but has not sent its HTTP/2 SETTINGS, not even when the channel is closed
 * (grpc/grpc-node#2785): a container that listens but is stuck would leak one socket per probe period.
 * Destroying these sockets after close() ends that. Equal only to itself, so a probe never shares a
 * connection with another probe.
 */
class ProbeCredentials extends grpc.ChannelCredentials {
  readonly #insecure = grpc.credentials.createInsecure();
  readonly #sockets = new Set<Socket>();

  _isSecure(): boolean {
    return false;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(...args: Parameters<grpc.ChannelCredentials['_createSecureConnector']>): SecureConnector {
    const inner = this.#insecure._createSecureConnector(...args);
    return {
      connect: (socket) => {
        this.#sockets.add(socket);
        return inner.connect(socket);
      },
      waitForReady: () => inner.waitForReady(),
      getCallCredentials: () => inner.getCallCredentials(),
      destroy: () => inner.destroy(),
    };
  }

  destroySockets(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }
}

// grpc-go's codes.Code.String(), which the kubelet's "rpc error: code = … desc = …" messages use.
const GO_CODE_NAMES: Record<number, string> = {
  [grpc.status.OK]: 'OK',
  [grpc.status.CANCELLED]: 'Canceled',
  [grpc.status.UNKNOWN]: 'Unknown',
  [grpc.status.INVALID_ARGUMENT]: 'InvalidArgument',
  [grpc.status.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [grpc.status.NOT_FOUND]: 'NotFound',
  [grpc.status.ALREADY_EXISTS]: 'AlreadyExists',
  [grpc.status.PERMISSION_DENIED]: 'PermissionDenied',
  [grpc.status.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [grpc.status.FAILED_PRECONDITION]: 'FailedPrecondition',
  [grpc.status.ABORTED]: 'Aborted',
  [grpc.status.OUT_OF_RANGE]: 'OutOfRange',
  [grpc.status.UNIMPLEMENTED]: 'Unimplemented',
  [grpc.status.INTERNAL]: 'Internal',
  [grpc.status.UNAVAILABLE]: 'Unavailable',
  [grpc.status.DATA_LOSS]: 'DataLoss',
  [grpc.status.UNAUTHENTICATED]: 'Unauthenticated',
};

/** A duration as Go's time.Duration prints it (%v), for whole milliseconds: 1s, 300ms, 1.5s, 1m30s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

function rpcMessage(err: grpc.ServiceError, timeout: string): string {
  if (err.code === grpc.status.UNIMPLEMENTED) return `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${err.details}`;
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return `timeout: health rpc did not complete within ${timeout}`;
  return `error: health rpc probe failed: rpc error: code = ${GO_CODE_NAMES[err.code] ?? `Code(${err.code})`} desc = ${err.details}`;
}

export function grpcProbe(action: NonNullable<Probe['grpc']>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const host = target.podIP;
  const addr = `${host.includes(':') ? `[${host}]` : host}:${action.port}`;
  const timeout = goDuration(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  const method = methods.unary<CheckRequest, CheckResponse>('grpc.health.v1.Health', 'Check')!;
  const credentials = new ProbeCredentials();
  const client = new grpc.Client(addr, credentials, {
    'grpc.primary_user_agent': 'kube-probe/1.32',
    // The subchannel dies with the channel instead of waiting in grpc-js's process-wide pool.
    'grpc.use_local_subchannel_pool': 1,
    // grpc-js would send the probe through grpc_proxy/https_proxy/http_proxy from the agent's environment,
    // where it cannot reach a pod IP: every probe would fail. The kubelet dials the pod directly (its
    // prober passes its own net.Dialer), so no proxy applies.
    'grpc.enable_http_proxy': 0,
  });
  return new Promise<ProbeOutcome>((resolve) => {
    client.waitForReady(deadline, (connectErr) => {
      if (connectErr) {
        resolve({ ok: false, message: `timeout: failed to connect service "${addr}" within ${timeout}: context deadline exceeded` });
        return;
      }
      client.makeUnaryRequest<CheckRequest, CheckResponse>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        { service: action.service ?? '' },
        new grpc.Metadata(),
        { deadline },
        (err, res) => {
          if (err) resolve({ ok: false, message: rpcMessage(err, timeout) });
          else if (res?.status !== 'SERVING') resolve({ ok: false, message: `service unhealthy (responded with "${res?.status ?? 'UNKNOWN'}")` });
          else resolve({ ok: true, output: 'service healthy' });
        },
      );
    });
  }).finally(() => {
    client.close();
    credentials.destroySockets();
  });
}
