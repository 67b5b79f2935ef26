// A TCP listener bound before the API server behind it exists. `tinykube up --nodes` binds the API
// server's addresses first, so that it can start the node agents (their process start, module load and
// containerd) with the server's address while the control plane itself is still starting. Connections
// that arrive meanwhile wait, paused (nothing is read from them), and are handed to the HTTPS server
// once it is there; later ones go to it directly. A client sees a server that is slow to answer its
// TLS handshake, as a loaded kube-apiserver is, never a refused connection.

import net, { type Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';

/** Connections kept waiting at most; more are closed (the server is not up yet, as when it is down). */
const MAX_WAITING = 1024;

export class PreboundListener {
  readonly #server: net.Server;
  readonly host: string;
  readonly port: number;
  #waiting = new Set<Socket>();
  /** Handed to the HTTPS server and still open: ended by close(). */
  #handed = new Set<Socket>();
  #target: TlsServer | undefined;
  #closed = false;

  private constructor(server: net.Server, host: string, port: number) {
    this.#server = server;
    this.host = host;
    this.port = port;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Binds `host:port` (port 0: one the kernel picks). Rejects as `listen` does (EADDRINUSE, EADDRNOTAVAIL). */
  static listen(port: number, host: string): Promise<PreboundListener> {
    const server = net.createServer({ pauseOnConnect: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(new PreboundListener(server, host, (server.address() as net.AddressInfo).port));
      });
    });
  }

  /** Connections accepted and not yet handed over. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Hands the waiting connections, and every later one, to `target` (an HTTPS server that does not listen itself). */
  serve(target: TlsServer): void {
    if (this.#target) throw new Error(`${this.host}:${this.port} is already served`);
    this.#target = target;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const socket of waiting) this.#handOver(socket);
  }

  /** Stops accepting and closes every connection it accepted: those still waiting, and those handed over (call it with the server's close). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const s of this.#waiting) s.destroy();
    this.#waiting.clear();
    // The handed-over ones too: the HTTPS server's closeAllConnections() ends their TLS side, but the
    // TCP socket under it stayed open until the HTTP keep-alive timeout, and held `up --nodes`' Ctrl-C
    // (and the process' exit) for ~65 s.
    for (const s of this.#handed) s.destroy();
    this.#handed.clear();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    if (this.#target) return this.#handOver(socket);
    if (this.#closed || this.#waiting.size >= MAX_WAITING) {
      socket.destroy();
      return;
    }
    // A client that gives up while waiting must not crash the process.
    socket.on('error', swallow);
    socket.once('close', () => this.#waiting.delete(socket));
    this.#waiting.add(socket);
  }

  #handOver(socket: Socket): void {
    socket.off('error', swallow);
    if (socket.destroyed) return;
    this.#handed.add(socket);
    socket.once('close', () => this.#handed.delete(socket));
    // The TLS server wraps the socket and reads from it itself (pauseOnConnect left it unread).
    this.#target!.emit('connection', socket);
  }
}

function swallow(): void {}
