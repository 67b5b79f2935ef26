// Duplicate keys in a JSON text. JSON.parse keeps the last value silently; the apiserver's strict
// decoder reports each repeated key (`duplicate field "metadata.name"`), so we scan the text once
// more. The scan only runs on text JSON.parse already accepted, so it need not diagnose syntax.
//
// Paths use the same form as unknown fields: dotted keys, `[i]` for list items.

/** Paths of every key that appears more than once in the same object, in text order. */
export function duplicateKeys(text: string): string[] {
  const out: string[] = [];
  // One frame per open container: objects track their keys, arrays their next index.
  interface Frame {
    path: string;
    keys: Set<string> | null;
    index: number;
    pendingKey: string | null;
  }
  const stack: Frame[] = [];
  let i = 0;
  const n = text.length;

  const childPath = (f: Frame | undefined): string => {
    if (!f) return '';
    if (f.keys) return f.path ? `${f.path}.${f.pendingKey}` : (f.pendingKey ?? '');
    return `${f.path}[${f.index}]`;
  };
  // A value just finished inside the top frame: advance the array index / clear the object key.
  const valueDone = (): void => {
    const top = stack[stack.length - 1];
    if (!top) return;
    if (top.keys) top.pendingKey = null;
    else top.index++;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      let escaped = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i += 2;
          continue;
        }
        if (d === 0x22) break;
        i++;
      }
      const raw = text.slice(start, i + 1);
      i++;
      const top = stack[stack.length - 1];
      if (top?.keys && top.pendingKey === null) {
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) out.push(top.path ? `${top.path}.${key}` : key);
        top.keys.add(key);
        top.pendingKey = key;
      } else {
        valueDone();
      }
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const path = childPath(stack[stack.length - 1]);
      stack.push({ path, keys: c === 0x7b ? new Set() : null, index: 0, pendingKey: null });
      i++;
      continue;
    }
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      valueDone();
      i++;
      continue;
    }
    if (c === 0x2c /* , */ || c === 0x3a /* : */ || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
      continue;
    }
    // A number, true, false or null: skip to the next delimiter.
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
      i++;
    }
    valueDone();
  }
  return out;
}
