// Node selection rules of a pod (component-helpers' nodeaffinity): spec.nodeSelector AND the required
// node affinity terms (ORed; each term ANDs its matchExpressions and matchFields). Used by the
// scheduler's NodeAffinity and PodTopologySpread's nodeAffinityPolicy, and by the node agent's admission.

import type { NodeSelectorRequirement, NodeSelectorTerm, Pod } from '../types.ts';
import { requirementMatches } from '../labels.ts';
import type { LabelOperator } from '../labels.ts';

/** What node selection reads of a node: its name (matchFields) and labels (the scheduler's NodeInfo is one). */
export interface NodeLabels {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

const OPS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt' };

/** One requirement against node labels; an unknown operator or a malformed one matches nothing. */
export function nodeSelectorRequirementMatches(r: NodeSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const op = OPS[r.operator];
  if (!op) return false;
  const values = r.values ?? [];
  if ((op === 'in' || op === 'notin') && values.length === 0) return false;
  if ((op === 'exists' || op === '!') && values.length !== 0) return false;
  if ((op === 'gt' || op === 'lt') && values.length !== 1) return false;
  return requirementMatches({ key: r.key, operator: op, values }, labels);
}

/** matchFields supports only metadata.name with In/NotIn. */
function fieldMatches(r: NodeSelectorRequirement, nodeName: string): boolean {
  if (r.key !== 'metadata.name') return false;
  const values = r.values ?? [];
  if (r.operator === 'In') return values.length === 1 && values[0] === nodeName;
  if (r.operator === 'NotIn') return values.length === 1 && values[0] !== nodeName;
  return false;
}

/** A term with neither expressions nor fields matches no node. */
export function nodeSelectorTermMatches(t: NodeSelectorTerm, node: NodeLabels): boolean {
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!nodeSelectorRequirementMatches(r, node.labels)) return false;
  for (const r of fields) if (!fieldMatches(r, node.name)) return false;
  return true;
}

export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[], node: NodeLabels): boolean {
  for (const t of terms) if (nodeSelectorTermMatches(t, node)) return true;
  return false;
}

/** GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required terms both hold. */
export function podMatchesNodeSelectorAndAffinity(pod: Pod, node: NodeLabels): boolean {
  const sel = pod.spec?.nodeSelector;
  if (sel) {
    for (const [k, v] of Object.entries(sel)) if (node.labels[k] !== v) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) return nodeSelectorTermsMatch(required.nodeSelectorTerms ?? [], node);
  return true;
}
