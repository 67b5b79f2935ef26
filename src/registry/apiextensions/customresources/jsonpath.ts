// The JSON paths CustomResourceDefinitions use (printer columns, scale paths, selectable fields):
// `.spec.replicas`, `.status.conditions[0].type`, `.metadata.labels['app.kubernetes.io/name']`, and
// the equality filters printer columns use to pick a list item
// (`.status.conditions[?(@.type=="Ready")].status`, which takes the first item that matches, as a
// table cell shows one value). Nothing else of JSONPath is needed for these.

/** A field name, a list index, or a filter picking the first list item whose `path` equals `value`. */
export type PathStep = string | number | { path: string[]; value: string | number | boolean };

/** Parses a path into its steps; undefined when it is not a simple path. */
export function parsePath(path: string): PathStep[] | undefined {
  const steps: PathStep[] = [];
  const re = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[\?\(@((?:\.[A-Za-z0-9_$-]+)+)\s*==\s*(?:"([^"]*)"|'([^']*)'|(-?\d+(?:\.\d+)?)|(true|false))\s*\)\]/y;
  let i = 0;
  while (i < path.length) {
    re.lastIndex = i;
    const m = re.exec(path);
    if (!m) return undefined;
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else if (m[5] !== undefined) {
      const value = m[6] ?? m[7] ?? (m[8] !== undefined ? Number(m[8]) : m[9] === 'true');
      steps.push({ path: m[5].slice(1).split('.'), value });
    } else steps.push(m[3] ?? m[4]!);
    i = re.lastIndex;
  }
  return steps.length ? steps : undefined;
}

/** The value at `steps`, or undefined when any step is missing. */
export function getPath(obj: unknown, steps: readonly PathStep[]): unknown {
  let cur: unknown = obj;
  for (const s of steps) {
    if (typeof s === 'object') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur.find((item) => getPath(item, s.path) === s.value);
      if (cur === undefined) return undefined;
    } else if (typeof s === 'number') {
      if (!Array.isArray(cur) || s >= cur.length) return undefined;
      cur = cur[s];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, s)) return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
  }
  return cur;
}

/** Sets the value at `steps` (object steps only), making the objects on the way. */
export function setPath(obj: Record<string, unknown>, steps: readonly PathStep[], value: unknown): void {
  let cur: Record<string, unknown> = obj;
  for (let i = 0; i < steps.length - 1; i++) {
    const s = String(steps[i]);
    const next = cur[s];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[s] = {};
    cur = cur[s] as Record<string, unknown>;
  }
  cur[String(steps[steps.length - 1])] = value;
}
