// The differ: models → nft transaction scripts (for `nft -f -`, which applies a file as one atomic
// transaction). Three kinds:
//  - recreate: `add table` + `delete table` + everything. Used at start and after a failed transaction,
//    when what the kernel holds is unknown. Existing connections survive (conntrack keeps their NAT).
//  - refresh: the periodic full resync that repairs drift. `flush table` empties every chain but keeps
//    set elements, so the static maps are flushed explicitly while session-affinity sets keep the
//    clients they have seen (a delete-table resync every hour would forget them).
//  - diff: only what changed between two models: chains added, rewritten (flush + rules) or deleted,
//    map elements added or deleted. Order inside the transaction matters: new chains and sets exist
//    before anything refers to them, and referrers are rewritten before what they named is deleted.

import { HAIRPIN_SET, elementId } from './builder.ts';
import { slotElements } from './endpointmaps.ts';
import { TABLE_FAMILY, TABLE_NAME } from './model.ts';
import type { Element, ServicePart, TableModel } from './model.ts';

const T = `${TABLE_FAMILY} ${TABLE_NAME}`;
/** Elements per `add element` command: keeps single commands (and error messages) of sane size. */
const ELEMENT_BATCH = 1000;

/** One `conntrack -D` of UDP flows (Debian conntrack-tools' filter options). */
export interface ConntrackDelete {
  readonly origDst?: string;
  readonly origPortDst: number;
  readonly replySrc?: string;
}

export interface Transaction {
  /** The nft script; empty when nothing changed. */
  readonly script: string;
  /** UDP flows to forget once the script is applied. */
  readonly conntrack: readonly ConntrackDelete[];
  /** How many more (or fewer) Services name each hairpin endpoint: what `HairpinRefs.apply` takes once the script is applied. */
  readonly hairpin: ReadonlyMap<string, number>;
}

/**
 * How many Services name each hairpin endpoint in the table the kernel holds: an element of the shared
 * set is added when the first names it and deleted when the last stops. The proxier keeps one and
 * changes it only after a transaction succeeded (a failed one is followed by a recreate and `reset`).
 */
export class HairpinRefs {
  readonly #count = new Map<string, number>();

  count(ip: string): number {
    return this.#count.get(ip) ?? 0;
  }

  apply(delta: ReadonlyMap<string, number>): void {
    for (const [ip, d] of delta) {
      const n = this.count(ip) + d;
      if (n > 0) this.#count.set(ip, n);
      else this.#count.delete(ip);
    }
  }

  /** Counts what `model` names. */
  reset(model: TableModel): void {
    this.#count.clear();
    for (const part of model.services.values()) for (const ip of part.hairpin) this.#count.set(ip, this.count(ip) + 1);
  }

  static of(model: TableModel): HairpinRefs {
    const refs = new HairpinRefs();
    refs.reset(model);
    return refs;
  }
}

function hairpinElement(ip: string): Element {
  return { set: HAIRPIN_SET, key: `${ip} . ${ip}` };
}

class Writer {
  readonly lines: string[] = [];
  addChain(name: string, hook?: string): void {
    this.lines.push(hook ? `add chain ${T} ${name} { ${hook} }` : `add chain ${T} ${name}`);
  }
  rules(chain: string, rules: readonly string[]): void {
    for (const r of rules) this.lines.push(`add rule ${T} ${chain} ${r}`);
  }
  elements(verb: 'add' | 'delete', elements: readonly Element[]): void {
    const bySet = new Map<string, string[]>();
    for (const e of elements) {
      const text = verb === 'add' && e.value !== undefined ? `${e.key} : ${e.value}` : e.key;
      const list = bySet.get(e.set);
      if (list) list.push(text);
      else bySet.set(e.set, [text]);
    }
    for (const [set, items] of bySet) {
      for (let i = 0; i < items.length; i += ELEMENT_BATCH) this.lines.push(`${verb} element ${T} ${set} { ${items.slice(i, i + ELEMENT_BATCH).join(', ')} }`);
    }
  }
  text(): string {
    return this.lines.length ? this.lines.join('\n') + '\n' : '';
  }
}

/** The elements of a part that the table holds for it (it may have lost a key to another Service), its slots included. */
function owned(model: TableModel, key: string, part: ServicePart | undefined): Element[] {
  if (!part) return [];
  const out = part.elements.filter((e) => e.exclusive || model.owners.get(elementId(e)) === key);
  for (const r of part.slots) out.push(...slotElements(r));
  return out;
}

/** The whole table, in one transaction. `prev` (refresh only) names chains and sets to delete. */
export function fullScript(model: TableModel, mode: 'recreate' | 'refresh', prev?: TableModel): string {
  return [...fullScriptChunks(model, mode, prev)].join('');
}

/** Text is handed on in pieces of about this size. */
const CHUNK_BYTES = 64 * 1024;

/**
 * fullScript in pieces, made as they are read: a runner that writes them to nft as they come keeps a
 * chunk in memory rather than the whole script (~19 MB at 10,000 Services) and every line and element
 * object it is made of (the heap of a full sync peaked ~100 MB above what the proxy keeps).
 */
export function* fullScriptChunks(model: TableModel, mode: 'recreate' | 'refresh', prev?: TableModel): Generator<string> {
  let w = new Writer();
  let size = 0;
  function* flush(force = false): Generator<string> {
    if (!force && size < CHUNK_BYTES) return;
    const text = w.text();
    w = new Writer();
    size = 0;
    if (text) yield text;
  }
  const line = (l: string): void => {
    w.lines.push(l);
    size += l.length + 1;
  };
  line(`add table ${T}`);
  line(mode === 'recreate' ? `delete table ${T}` : `flush table ${T}`);
  if (mode === 'recreate') line(`add table ${T}`);
  for (const [name, c] of model.chains) line(c.hook ? `add chain ${T} ${name} { ${c.hook} }` : `add chain ${T} ${name}`);
  for (const [name, st] of model.sets) {
    line(`add ${st.kind} ${T} ${name} { ${st.decl} }`);
    if (mode === 'refresh') line(`flush ${st.kind} ${T} ${name}`);
  }
  yield* flush();
  for (const part of model.services.values()) {
    for (const name of part.chains.keys()) line(`add chain ${T} ${name}`);
    for (const [name, decl] of part.sets) line(`add set ${T} ${name} { ${decl} }`);
    yield* flush();
  }
  for (const [name, c] of model.chains) for (const r of c.rules) line(`add rule ${T} ${name} ${r}`);
  // Shared maps' elements are batched per set at the end; a chain's slots go with its rules.
  const shared: Element[] = [];
  const hairpin = new Set<string>();
  for (const [key, part] of model.services) {
    for (const [name, rules] of part.chains) for (const r of rules) line(`add rule ${T} ${name} ${r}`);
    for (const e of part.elements) if (e.exclusive || model.owners.get(elementId(e)) === key) shared.push(e);
    for (const r of part.slots) {
      const before = w.lines.length;
      w.elements('add', slotElements(r));
      for (let i = before; i < w.lines.length; i++) size += w.lines[i].length + 1;
    }
    for (const ip of part.hairpin) hairpin.add(ip);
    yield* flush();
  }
  for (const ip of hairpin) shared.push(hairpinElement(ip));
  w.elements('add', shared);
  if (mode === 'refresh' && prev) {
    const chains = new Set<string>();
    const sets = new Set<string>();
    for (const part of model.services.values()) {
      for (const n of part.chains.keys()) chains.add(n);
      for (const n of part.sets.keys()) sets.add(n);
    }
    for (const part of prev.services.values()) {
      for (const n of part.chains.keys()) if (!chains.has(n)) line(`delete chain ${T} ${n}`);
      for (const n of part.sets.keys()) if (!sets.has(n)) line(`delete set ${T} ${n}`);
    }
  }
  yield* flush(true);
}

/**
 * Only what changed from `prev` to `next`. `changed` limits the comparison to those Services (the
 * ones whose informer objects changed); without it every Service whose part is a different object is
 * compared. Base chains and maps never change between two models of one node. `refs` counts the
 * hairpin endpoints of `prev` (counted here when not given).
 */
export function diffScript(prev: TableModel, next: TableModel, changed?: Iterable<string>, refs: HairpinRefs = HairpinRefs.of(prev)): Transaction {
  const keys = changed ? new Set(changed) : new Set([...prev.services.keys(), ...next.services.keys()]);
  const addChains: string[] = [];
  const addSets: string[] = [];
  const write = new Map<string, { rules: readonly string[]; flush: boolean }>();
  const delElements: Element[] = [];
  const addElements: Element[] = [];
  const delChains: string[] = [];
  const delSets: string[] = [];
  const conntrack: ConntrackDelete[] = [];
  const hairpin = new Map<string, number>();
  for (const key of keys) {
    const a = prev.services.get(key);
    const b = next.services.get(key);
    if (a === b) continue;
    for (const ip of a?.hairpin ?? []) hairpin.set(ip, (hairpin.get(ip) ?? 0) - 1);
    for (const ip of b?.hairpin ?? []) hairpin.set(ip, (hairpin.get(ip) ?? 0) + 1);
    for (const [name, rules] of b?.chains ?? []) {
      const old = a?.chains.get(name);
      if (!old) {
        addChains.push(name);
        write.set(name, { rules, flush: false });
      } else if (!sameRules(old, rules)) write.set(name, { rules, flush: true });
    }
    for (const name of a?.chains.keys() ?? []) if (!b?.chains.has(name)) delChains.push(name);
    for (const [name, decl] of b?.sets ?? []) if (a?.sets.get(name) !== decl) addSets.push(`add set ${T} ${name} { ${decl} }`);
    for (const name of a?.sets.keys() ?? []) if (!b?.sets.has(name)) delSets.push(name);
    const before = new Map(owned(prev, key, a).map((e) => [elementId(e), e]));
    const after = new Map(owned(next, key, b).map((e) => [elementId(e), e]));
    for (const [id, e] of before) if (after.get(id)?.value !== e.value || !after.has(id)) delElements.push(e);
    for (const [id, e] of after) if (!before.has(id) || before.get(id)!.value !== e.value) addElements.push(e);
    conntrack.push(...udpFlushes(a, b));
  }
  for (const [ip, d] of hairpin) {
    const before = refs.count(ip);
    if (d === 0) hairpin.delete(ip);
    else if (before === 0) addElements.push(hairpinElement(ip));
    else if (before + d === 0) delElements.push(hairpinElement(ip));
  }
  const w = new Writer();
  for (const name of addChains) w.addChain(name);
  w.lines.push(...addSets);
  for (const [name, { rules, flush }] of write) {
    if (flush) w.lines.push(`flush chain ${T} ${name}`);
    w.rules(name, rules);
  }
  w.elements('delete', delElements);
  w.elements('add', addElements);
  // A chain still named by another chain's rules cannot be deleted, even if that chain goes too:
  // empty them all first.
  for (const name of delChains) w.lines.push(`flush chain ${T} ${name}`);
  for (const name of delChains) w.lines.push(`delete chain ${T} ${name}`);
  for (const name of delSets) w.lines.push(`delete set ${T} ${name}`);
  return { script: w.text(), conntrack, hairpin };
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

// kube-proxy's UDP conntrack cleanup: flows to an endpoint that is gone would otherwise keep being
// sent there (UDP "connections" never end on their own), and flows to a frontend that had no endpoints
// must be forgotten once it has some.
function udpFlushes(a: ServicePart | undefined, b: ServicePart | undefined): ConntrackDelete[] {
  const out: ConntrackDelete[] = [];
  for (const [id, old] of a?.udp ?? []) {
    const now = new Set(b?.udp.get(id)?.endpoints ?? []);
    for (const ep of old.endpoints) {
      if (now.has(ep)) continue;
      for (const f of old.frontends) out.push({ origDst: f.ip, origPortDst: f.port, replySrc: ep });
      if (old.nodePort) out.push({ origPortDst: old.nodePort, replySrc: ep });
    }
  }
  for (const [id, cur] of b?.udp ?? []) {
    if (cur.endpoints.length === 0 || (a?.udp.get(id)?.endpoints.length ?? 0) > 0) continue;
    for (const f of cur.frontends) out.push({ origDst: f.ip, origPortDst: f.port });
    if (cur.nodePort) out.push({ origPortDst: cur.nodePort });
  }
  return out;
}
