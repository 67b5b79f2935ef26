// Template hashes (controller.ComputeHash): the `pod-template-hash` of a Deployment's ReplicaSets and
// the `controller-revision-hash` of DaemonSet and StatefulSet revisions. Kubernetes hashes its Go
// structs with FNV-1a (32 bits) and a collision count, and prints the number with SafeEncodeString's
// alphabet (no vowels, no look-alike digits). We hash the template's JSON with its keys sorted: the
// same shape, alphabet and length of name, but not the same value as a Go cluster would compute for
// the same template (its input is Go's printed struct, which a TypeScript server cannot reproduce).

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits, over UTF-8 bytes. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: each character mapped into the alphabet. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += ALPHABET[s.charCodeAt(i) % ALPHABET.length];
  return out;
}

/** JSON with object keys sorted, so equal templates hash equally whatever their key order. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The hash label value of a template and a collision count (absent when zero, as Kubernetes). */
export function computeHash(template: unknown, collisionCount?: number): string {
  let input = canonicalJSON(template);
  if (collisionCount) input += String(collisionCount);
  return safeEncode(String(fnv32a(input)));
}
