// What a simulated node looks like (capacity, labels, taints) and the small parsers behind
// `tinykube simulate`'s flags. Pure.
//
// Addresses: simulated nodes take their pod CIDRs from 100.64.0.0/10 (16,384 /24s, the shared address
// space of RFC 6598) and their InternalIPs from 198.18.0.0/15 (RFC 2544's benchmark range), both by
// one index per node. Neither overlaps the cluster CIDR (10.244.0.0/16) that real agents and the node
// lifecycle controller allocate from, so thousands of simulated nodes never starve a real one of a
// subnet, and the controller leaves them alone (it only allocates for nodes without a podCIDR).
import type { Taint } from '../../api/types.ts';
import { parseQuantity, QuantityError } from '../../api/quantity.ts';
import { DurationError, parseDurationMs as parseDuration } from '../../util/duration.ts';

export class SimulateConfigError extends Error {
  readonly code = 'ERR_SIMULATE_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'SimulateConfigError';
  }
}

export interface SimulatedNodeSpec {
  /** Capacity (= allocatable) quantities: cpu, memory, pods, ephemeral-storage and any extended resource. */
  capacity: Record<string, string>;
  /** Extra labels, on top of the kubelet's well-known ones. */
  labels: Record<string, string>;
  /** Taints set when the Node is created (as kubelet's --register-with-taints). */
  taints: Taint[];
}

export const DEFAULT_CAPACITY: Readonly<Record<string, string>> = { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' };

/** Marks every simulated Node, so tools (and a restarted simulator) can tell them from real ones. */
export const SIMULATED_LABEL = 'simulate.tinykube.io/node';

/** `k=v,k2=v2` → labels. Empty string → {}. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new SimulateConfigError(`--labels: ${JSON.stringify(part)} is not KEY=VALUE`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** `k=v:Effect,k:Effect` → taints, as `kubectl taint` spells them. */
export function parseTaints(text: string | undefined): Taint[] {
  const out: Taint[] = [];
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = part.lastIndexOf(':');
    const effect = colon > 0 ? part.slice(colon + 1) : '';
    if (!EFFECTS.has(effect)) throw new SimulateConfigError(`--taints: ${JSON.stringify(part)} needs KEY[=VALUE]:EFFECT with EFFECT one of NoSchedule, PreferNoSchedule, NoExecute`);
    const kv = part.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq >= 0 ? kv.slice(0, eq) : kv;
    if (!key) throw new SimulateConfigError(`--taints: ${JSON.stringify(part)} has no key`);
    out.push(eq >= 0 ? { key, value: kv.slice(eq + 1), effect } : { key, effect });
  }
  return out;
}

/** util/duration's parseDurationMs, failing with a SimulateConfigError. */
export function parseDurationMs(text: string, what = 'duration'): number {
  try {
    return parseDuration(text, what);
  } catch (err) {
    if (err instanceof DurationError) throw new SimulateConfigError(err.message);
    throw err;
  }
}

/** Checks a capacity map: every value must be a quantity; pods a whole number. */
export function checkCapacity(capacity: Record<string, string>): void {
  for (const [k, v] of Object.entries(capacity)) {
    try {
      parseQuantity(v);
    } catch (err) {
      if (err instanceof QuantityError) throw new SimulateConfigError(`capacity ${k}=${JSON.stringify(v)}: ${err.message}`);
      throw err;
    }
  }
  if (!/^\d+$/.test(capacity.pods ?? '0')) throw new SimulateConfigError(`capacity pods=${JSON.stringify(capacity.pods)} must be a whole number`);
}

/** The number of simulated-node address slots (one /24 of 100.64.0.0/10 each). */
export const ADDRESS_SLOTS = 1 << 14;

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const POD_BASE = (100 << 24) | (64 << 16); // 100.64.0.0
const NODE_BASE = ((198 << 24) | (18 << 16)) >>> 0; // 198.18.0.0

/** The pod CIDR and node IP of address slot `i` (0 ≤ i < ADDRESS_SLOTS). */
export function slotAddresses(i: number): { podCIDR: string; nodeIP: string; podBase: number } {
  const podBase = (POD_BASE + i * 256) >>> 0;
  return { podCIDR: `${ipv4(podBase)}/24`, nodeIP: ipv4(NODE_BASE + i + 1), podBase };
}

/** The slot a pod CIDR names, if it is one of ours. */
export function slotOfPodCIDR(cidr: string): number | undefined {
  const m = /^100\.(\d+)\.(\d+)\.0\/24$/.exec(cidr);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a < 64 || a > 127 || b > 255) return undefined;
  return (a - 64) * 256 + b;
}

export function podIP(podBase: number, host: number): string {
  return ipv4(podBase + host);
}
