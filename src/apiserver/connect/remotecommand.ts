// exec/attach for kubectl's WebSocket protocol (v5.channel.k8s.io), re-originated toward the node
// agent as SPDY with v4.channel.k8s.io, which containerd's streaming server speaks. This is what the
// kube-apiserver's stream translator does, and for the same reason: v4 over WebSocket cannot say
// "stdin is closed" (v5's channel 255 can; SPDY half-closes the stdin stream), and without that
// `kubectl exec -i … -- cat`, or the tar of `kubectl cp`, never ends.
//
// One bridge per request; the bridge owns both connections until it resolves.

import type { WebSocket } from 'ws';
import type { SpdySession, SpdyStream } from '../../util/spdy/session.ts';

export const V5_CHANNEL = 'v5.channel.k8s.io';
export const V4_CHANNEL = 'v4.channel.k8s.io';

export const Channel = { STDIN: 0, STDOUT: 1, STDERR: 2, ERROR: 3, RESIZE: 4, CLOSE: 255 } as const;

export interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface RemoteCommandStreams {
  error: SpdyStream;
  stdin?: SpdyStream;
  stdout?: SpdyStream;
  stderr?: SpdyStream;
  resize?: SpdyStream;
}

/** The exact bytes the kubelet sends for a successful command. */
export const SUCCESS_STATUS = '{"metadata":{},"status":"Success"}';

/**
 * Opens the streams of a remote command in client-go's order, each after the previous one was
 * answered (the kubelet's handler expects them that way). The error stream is ours to read only.
 */
export async function openRemoteCommandStreams(session: SpdySession, f: StreamFlags): Promise<RemoteCommandStreams> {
  const error = await session.openStream({ streamtype: 'error' });
  // Nothing is ever written on the error stream by the client.
  error.end();
  const out: RemoteCommandStreams = { error };
  if (f.stdin) out.stdin = await session.openStream({ streamtype: 'stdin' });
  if (f.stdout) out.stdout = await session.openStream({ streamtype: 'stdout' }, { fin: true });
  if (f.stderr && !f.tty) out.stderr = await session.openStream({ streamtype: 'stderr' }, { fin: true });
  if (f.tty) out.resize = await session.openStream({ streamtype: 'resize' });
  return out;
}

/** Resolves with what the stream carried once it ended or was cut off, and whether it ended cleanly. */
function collect(s: SpdyStream): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let ended = false;
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => (ended = true));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ data: Buffer.concat(parts), ended }));
  });
}

function whenDone(s: SpdyStream | undefined): Promise<void> {
  if (!s) return Promise.resolve();
  return new Promise((resolve) => {
    s.on('end', resolve);
    s.on('close', resolve);
  });
}

// Output waits while this much is queued toward kubectl.
const SEND_HIGH_WATER = 1 << 20;

/**
 * Carries one command between kubectl's WebSocket and the agent's SPDY streams until the command
 * ended (its status went out on channel 3 and the WebSocket was closed with 1000) or either side
 * went away. `protocol` is what the agent chose: v4 sends a JSON Status on the error stream; older
 * versions send plain text (empty on success).
 */
export function bridgeV5(ws: WebSocket, session: SpdySession, streams: RemoteCommandStreams, protocol: string): Promise<void> {
  const send = (channel: number, payload: Buffer, cb?: () => void) => {
    if (ws.readyState !== ws.OPEN) return cb?.();
    ws.send(Buffer.concat([Buffer.from([channel]), payload]), { binary: true }, cb ? () => cb() : undefined);
  };

  // kubectl → agent. Text frames count as binary ones (their UTF-8 bytes), as kube-apiserver's wsstream
  // reads every message: clients that write stdin as a string (the Python client) send text frames.
  ws.on('message', (data: Buffer) => {
    if (data.length === 0) return;
    const payload = data.subarray(1);
    switch (data[0]) {
      case Channel.STDIN:
        if (streams.stdin && !streams.stdin.writableEnded && payload.length) {
          if (!streams.stdin.write(payload)) {
            ws.pause();
            streams.stdin.once('drain', () => ws.resume());
          }
        }
        return;
      case Channel.RESIZE:
        if (streams.resize && !streams.resize.writableEnded) streams.resize.write(payload);
        return;
      case Channel.CLOSE:
        if (payload[0] === Channel.STDIN) streams.stdin?.end();
        return;
    }
  });

  // agent → kubectl, pausing the source while kubectl is behind.
  const pump = (s: SpdyStream | undefined, channel: number) => {
    if (!s) return;
    s.on('data', (chunk: Buffer) => {
      send(channel, chunk, () => {
        if (s.isPaused() && ws.bufferedAmount < SEND_HIGH_WATER / 2) s.resume();
      });
      if (ws.bufferedAmount > SEND_HIGH_WATER) s.pause();
    });
  };
  pump(streams.stdout, Channel.STDOUT);
  pump(streams.stderr, Channel.STDERR);

  const error = collect(streams.error);
  let finished = false;
  const done = (async () => {
    await Promise.all([whenDone(streams.stdout), whenDone(streams.stderr)]);
    const { data } = await error;
    if (finished) return;
    finished = true;
    let status: string;
    if (protocol === V4_CHANNEL) {
      // containerd closes the connection right after writing the status, so a cut-off error stream
      // with content is the normal ending; an empty one means the agent went away mid-command.
      status = data.length ? data.toString() : JSON.stringify({
        metadata: {},
        status: 'Failure',
        message: `error reading from the node agent: connection closed before the command finished`,
        reason: 'InternalError',
        code: 500,
      });
    } else {
      status = data.length ? JSON.stringify({ metadata: {}, status: 'Failure', message: data.toString(), reason: 'InternalError', code: 500 }) : SUCCESS_STATUS;
    }
    await new Promise<void>((resolve) => send(Channel.ERROR, Buffer.from(status), resolve));
    ws.close(1000);
    await session.close();
  })();

  return new Promise((resolve) => {
    ws.on('close', () => {
      // kubectl went away (or our close completed): nothing more to carry.
      finished = true;
      session.destroy();
      void done.finally(resolve);
    });
    ws.on('error', () => {
      finished = true;
      session.destroy();
    });
  });
}
