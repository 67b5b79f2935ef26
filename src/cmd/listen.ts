// The API server's listen and advertise addresses (--listen, --advertise-address defaults). Kept apart
// from the control plane's composition so that commands can read them without loading the server.

import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { isGlobalUnicast } from '../apiserver/connect/proxy.ts';

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen: port ${port} is out of range`);
  return { host: m[1] ?? m[2]!, port };
}

/** The default advertise address: the listen host if routable, else the first routable IPv4 address of the host's interfaces. */
export function defaultAdvertiseAddress(listenHost: string): string | undefined {
  if (isIPv4(listenHost) && isGlobalUnicast(listenHost)) return listenHost;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal && isGlobalUnicast(a.address)) return a.address;
  }
  return undefined;
}
