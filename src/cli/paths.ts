import os from 'node:os';
import path from 'node:path';

/** /var/lib/tinykube for root (as k3s uses /var/lib/rancher), else ~/.local/share/tinykube. */
export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/tinykube';
  return path.join(os.homedir(), '.local', 'share', 'tinykube');
}
