// containerd's CRI plugin logs the beginning and the end of RunPodSandbox, CreateContainer and
// StartContainer at info level, with nanosecond timestamps. Read back, they split a pod's start into
// what containerd spent and what the agent spent between the calls, without touching the agent.
//
// Lines look like (containerd 1.6):
//   time="…Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:n,Uid:u,Namespace:default,Attempt:0,}"
//   time="…Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{…} returns sandbox id \"ID\""
//   time="…Z" level=info msg="CreateContainer within sandbox \"ID\" for container &ContainerMetadata{…}"
//   time="…Z" level=info msg="CreateContainer within sandbox \"ID\" for &ContainerMetadata{…} returns container id \"CID\""
//   time="…Z" level=info msg="StartContainer for \"CID\""
//   time="…Z" level=info msg="StartContainer for \"CID\" returns successfully"

import { readFileSync } from 'node:fs';

/** The three CRI calls of one pod's first start, on this process's performance.now() timeline. */
export interface PodCalls {
  runSandbox: [number, number];
  createContainer: [number, number];
  startContainer: [number, number];
}

/** `time="2026-11-24T04:05:27.819256565Z"` → performance.now() timeline (sub-millisecond kept). */
export function logTime(line: string): number | undefined {
  const m = /^time="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z"/.exec(line);
  if (!m) return undefined;
  const frac = Number(`0.${m[2] ?? '0'}`) * 1000;
  return Date.parse(`${m[1]}Z`) + frac - performance.timeOrigin;
}

/** Reads the log once; pods are then looked up by UID. */
export class ContainerdLog {
  readonly #bySandboxUid = new Map<string, { begin?: number; end?: number; id?: string }>();
  readonly #create = new Map<string, { begin?: number; end?: number; cid?: string }>();
  readonly #start = new Map<string, { begin?: number; end?: number }>();

  constructor(text: string) {
    for (const line of text.split('\n')) {
      const at = logTime(line);
      if (at === undefined) continue;
      let m = /msg="RunPodSandbox for &PodSandboxMetadata\{Name:[^,]*,Uid:([^,]+),[^}]*\}( returns sandbox id \\"([0-9a-f]+)\\")?/.exec(line);
      if (m) {
        const e = this.#bySandboxUid.get(m[1]!) ?? {};
        if (m[2]) {
          e.end = at;
          e.id = m[3];
        } else e.begin ??= at;
        this.#bySandboxUid.set(m[1]!, e);
        continue;
      }
      m = /msg="CreateContainer within sandbox \\"([0-9a-f]+)\\" for (?:container )?&ContainerMetadata\{[^}]*\}( returns container id \\"([0-9a-f]+)\\")?/.exec(line);
      if (m) {
        const e = this.#create.get(m[1]!) ?? {};
        if (m[2]) {
          e.end ??= at;
          e.cid ??= m[3];
        } else e.begin ??= at;
        this.#create.set(m[1]!, e);
        continue;
      }
      m = /msg="StartContainer for \\"([0-9a-f]+)\\"( returns successfully)?/.exec(line);
      if (m) {
        const e = this.#start.get(m[1]!) ?? {};
        if (m[2]) e.end ??= at;
        else e.begin ??= at;
        this.#start.set(m[1]!, e);
      }
    }
  }

  static read(file: string): ContainerdLog {
    return new ContainerdLog(readFileSync(file, 'utf8'));
  }

  /** The first sandbox and its first container of the pod with this UID, when all three calls completed. */
  pod(uid: string): PodCalls | undefined {
    const s = this.#bySandboxUid.get(uid);
    if (s?.begin === undefined || s.end === undefined || !s.id) return undefined;
    const c = this.#create.get(s.id);
    if (c?.begin === undefined || c.end === undefined || !c.cid) return undefined;
    const st = this.#start.get(c.cid);
    if (st?.begin === undefined || st.end === undefined) return undefined;
    return { runSandbox: [s.begin, s.end], createContainer: [c.begin, c.end], startContainer: [st.begin, st.end] };
  }
}
