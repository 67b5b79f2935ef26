// The mount table as /proc/self/mountinfo shows it to the agent (its mount namespace, which is
// containerd's: the agent's mounts under the pod directory are what the runtime bind-mounts).
import { readFileSync } from 'node:fs';

/** Mount points at or below dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const path = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(dir + '/')) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Whether path itself is a mount point. */
export function isMountPoint(path: string): boolean {
  return mountsUnder(path).includes(path);
}
