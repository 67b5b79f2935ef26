// Where a server's managed etcd member keeps its files under the server's data dir. Apart from
// ./etcd-cluster.ts so that a server without one can tell so without loading the etcd client (~0.2 s
// of CPU: etcd3 parses its .proto files when loaded).
import { existsSync } from 'node:fs';
import path from 'node:path';

export function managedEtcdPaths(dataDir: string) {
  const etcd = path.join(dataDir, 'etcd');
  return {
    etcd,
    data: path.join(etcd, 'data'),
    member: path.join(etcd, 'data', 'member'),
    config: path.join(etcd, 'member.json'),
    log: path.join(etcd, 'etcd.log'),
    pki: path.join(etcd, 'pki'),
    caCert: path.join(etcd, 'pki', 'ca.crt'),
    caKey: path.join(etcd, 'pki', 'ca.key'),
    memberCert: path.join(etcd, 'pki', 'member.crt'),
    memberKey: path.join(etcd, 'pki', 'member.key'),
    clientCert: path.join(etcd, 'pki', 'client.crt'),
    clientKey: path.join(etcd, 'pki', 'client.key'),
    serverToken: path.join(dataDir, 'server-token'),
  };
}

/** True when the data dir belongs to a server with a managed etcd member (restarts need no flag). */
export function hasManagedEtcd(dataDir: string): boolean {
  return existsSync(managedEtcdPaths(dataDir).config);
}
