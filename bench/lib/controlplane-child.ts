// Runs a control plane (API server on SQLite, HTTPS) in its own process for the API benchmark, so
// the server has an event loop of its own, as in production, and the load generator does not
// compete with it inside one thread. Prints one JSON line with how to reach it, then serves until
// SIGTERM (which also lets `--cpu-prof` write its profile).
//
// Usage: node bench/lib/controlplane-child.ts DATA_DIR [--always-allow]
//   --always-allow  authorizes every request (the server's default is system:masters + RBAC)

import { alwaysAllow } from '../../src/apiserver/auth/authorizer.ts';
import { startControlPlane } from '../../src/cmd/controlplane.ts';

export interface ChildInfo {
  url: string;
  port: number;
  ca: string;
  token: string;
  kubeconfig: string;
  pid: number;
}

const dataDir = process.argv[2];
if (!dataDir) {
  console.error('usage: controlplane-child.ts DATA_DIR');
  process.exit(2);
}
const cp = await startControlPlane({ dataDir, listen: '127.0.0.1:0', ...(process.argv.includes('--always-allow') ? { authorizer: alwaysAllow } : {}) });
const info: ChildInfo = { url: cp.url, port: cp.port, ca: cp.pki.caCertPem, token: cp.pki.adminToken, kubeconfig: cp.kubeconfigPath, pid: process.pid };
process.stdout.write(JSON.stringify(info) + '\n');
let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await cp.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// The parent going away (crash, ^C) must not leave a server behind.
process.stdin.on('end', () => void stop());
process.stdin.resume();
