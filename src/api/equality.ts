// Semantic equality of JSON-shaped API objects, as apimachinery's equality.Semantic.DeepEqual sees
// the decoded Go structs: an omitted field equals its zero value (false, 0, "", empty list or map).
// Immutability checks use this so that a manifest spelling out a zero value is not mistaken for a
// change. Quantities are compared as strings: defaulting puts them in canonical form first (as the
// apiserver's decode/encode round trip does).

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') {
    for (const k of Object.keys(v)) if (!isZero((v as Record<string, unknown>)[k])) return false;
    return true;
  }
  return false;
}

export function semanticDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isZero(a) && isZero(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!semanticDeepEqual(a[i], b[i])) return false;
    return true;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    for (const k of keys) if (!semanticDeepEqual(ao[k], bo[k])) return false;
    return true;
  }
  return false;
}

/**
 * Leaf paths where two objects differ (at most `limit`), for human-readable messages such as the
 * pod update Forbidden error. Paths use the FieldPath syntax ("spec.containers[0].ports[0].containerPort").
 */
export function diffPaths(a: unknown, b: unknown, base: string, limit = 10): { path: string; from: unknown; to: unknown }[] {
  const out: { path: string; from: unknown; to: unknown }[] = [];
  const walk = (x: unknown, y: unknown, p: string): void => {
    if (out.length >= limit || semanticDeepEqual(x, y)) return;
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
      for (let i = 0; i < x.length; i++) walk(x[i], y[i], `${p}[${i}]`);
      return;
    }
    const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (isObj(x) && isObj(y)) {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[k], y[k], p ? `${p}.${k}` : k);
      return;
    }
    out.push({ path: p, from: x, to: y });
  };
  walk(a, b, base);
  return out;
}

/**
 * Equality as JSON.stringify sees values: object key order does not matter and a key whose value is
 * undefined is absent. The registry's no-op-write check, without serialising both objects.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  return jsonObjectEqual(a as Record<string, unknown>, b as Record<string, unknown>);
}

/** jsonEqual of two objects, ignoring the keys in `skip`. */
export function jsonObjectEqual(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>, skip?: ReadonlySet<string>): boolean {
  let na = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k) || a[k] === undefined || skip?.has(k)) continue;
    na++;
    if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
  }
  let nb = 0;
  for (const k in b) if (Object.hasOwn(b, k) && b[k] !== undefined && !skip?.has(k)) nb++;
  return na === nb;
}
