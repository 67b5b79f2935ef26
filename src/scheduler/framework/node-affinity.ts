// Node selection rules of a pod (component-helpers' nodeaffinity): spec.nodeSelector AND the required
// node affinity terms (ORed; each term ANDs its matchExpressions and matchFields). Used by NodeAffinity
// and by PodTopologySpread's nodeAffinityPolicy.

import type { NodeSelectorRequirement, NodeSelectorTerm, Pod } from '../../api/types.ts';
import { requirementMatches } from '../../api/labels.ts';
import type { LabelOperator } from '../../api/labels.ts';
import type { NodeInfo } from './node-info.ts';

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
export function nodeSelectorTermMatches(t: NodeSelectorTerm, node: NodeInfo): boolean {
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!nodeSelectorRequirementMatches(r, node.labels)) return false;
  for (const r of fields) if (!fieldMatches(r, node.name)) return false;
  return true;
}

export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[], node: NodeInfo): boolean {
  for (const t of terms) if (nodeSelectorTermMatches(t, node)) return true;
  return false;
}

/** GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required terms both hold. */
export function podMatchesNodeSelectorAndAffinity(pod: Pod, node: NodeInfo): boolean {
  const sel = pod.spec?.nodeSelector;
  if (sel) {
    for (const [k, v] of Object.entries(sel)) if (node.labels[k] !== v) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) return nodeSelectorTermsMatch(required.nodeSelectorTerms ?? [], node);
  return true;
}
