// The scheduling priority of the calling thread, for the moments of a start where one process's work
// is what others wait on (up's control plane while its nodes start; a Ready node's own remaining start
// while the other nodes are still on their way). On Linux, setpriority(PRIO_PROCESS, 0), which is
// Node's os.setPriority without a pid, changes the calling thread only: V8's and libuv's worker
// threads keep theirs, and a thread or process started later inherits the value of the thread that
// starts it.
import { getPriority, setPriority } from 'node:os';

/**
 * Sets this thread's nice value and returns how to put back the one it had (once; later calls do
 * nothing). Where the change is refused (raising a priority needs CAP_SYS_NICE), nothing changes.
 */
export function setThreadNice(nice: number): () => void {
  let before: number;
  try {
    before = getPriority();
    if (before === nice) return () => undefined;
    setPriority(nice);
  } catch {
    return () => undefined;
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    try {
      setPriority(before);
    } catch {
      // A thread that lowered its own priority needs CAP_SYS_NICE to raise it again: it stays lower.
    }
  };
}
