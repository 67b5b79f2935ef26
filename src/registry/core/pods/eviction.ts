// pods/eviction: a delete that PodDisruptionBudgets gate, as kube-apiserver's EvictionREST does it.
// A pod that already is no disruption (finished, pending, being deleted) is deleted at once; else
// the one budget that selects it must allow a disruption, which the eviction spends (decrementing
// status.disruptionsAllowed and recording the pod in status.disruptedPods, so the disruption
// controller does not count it healthy while it goes) before the pod is deleted. A budget that does
// not allow it answers 429 TooManyRequests, which clients (kubectl drain) retry.

import { budgetSelects, updateDisruptionAllowedCondition } from '../../../api/disruption.ts';
import { isPodReady } from '../../../api/podready.ts';
import type { KubeObject, Pod, PodDisruptionBudget } from '../../../api/types.ts';
import { rfc3339, type Clock } from '../../../util/clock.ts';
import { badRequest, forbidden, StatusError } from '../../../util/status.ts';
import type { SubresourceCreateContext, SubresourceDefinition } from '../../kind.ts';
import type { DeleteParams, Store } from '../../store.ts';

/**
 * More evictions approved than the controller has seen go is refused: the controller drops
 * entries after DELETION_TIMEOUT, so this corrects itself (MaxDisruptedPodSize).
 */
export const MAX_DISRUPTED_POD_SIZE = 2000;
/** Retries of a delete whose pod changed meanwhile (EvictionsRetry's steps, without its sleeps: we re-read at once). */
const MAX_RETRIES = 20;

const VIOLATES = "Cannot evict pod as it would violate the pod's disruption budget.";

export const evictionSubresource: SubresourceDefinition<Pod> = {
  verbs: ['create'],
  kind: { group: 'policy', version: 'v1', kind: 'Eviction' },
  openapi: true,
  create: evict,
};

interface EvictionDeleteOptions {
  gracePeriodSeconds?: number;
  preconditions: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  dryRun: boolean;
}

function deleteOptionsOf(body: Record<string, unknown>, dryRun: boolean): EvictionDeleteOptions {
  const o = (body.deleteOptions ?? {}) as { gracePeriodSeconds?: unknown; preconditions?: { uid?: unknown; resourceVersion?: unknown } | null; propagationPolicy?: unknown; dryRun?: unknown };
  const out: EvictionDeleteOptions = { preconditions: {}, dryRun };
  if (typeof o.gracePeriodSeconds === 'number') out.gracePeriodSeconds = o.gracePeriodSeconds;
  if (typeof o.preconditions?.uid === 'string') out.preconditions.uid = o.preconditions.uid;
  if (typeof o.preconditions?.resourceVersion === 'string') out.preconditions.resourceVersion = o.preconditions.resourceVersion;
  if (typeof o.propagationPolicy === 'string') out.propagationPolicy = o.propagationPolicy;
  // The request's dryRun and the Eviction's deleteOptions.dryRun both ask for it (propagateDryRun).
  if (Array.isArray(o.dryRun) && o.dryRun.length > 0) out.dryRun = true;
  return out;
}

function deleteParams(o: EvictionDeleteOptions, resourceVersion?: string): DeleteParams {
  const preconditions = resourceVersion === undefined ? o.preconditions : { ...o.preconditions, resourceVersion };
  return { gracePeriodSeconds: o.gracePeriodSeconds, preconditions, propagationPolicy: o.propagationPolicy, dryRun: o.dryRun };
}

const phaseOf = (pod: KubeObject) => (pod.status as { phase?: string } | undefined)?.phase;

/** canIgnorePDB: a finished or pending pod, or one being deleted, disrupts nothing more by going. */
function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

/** shouldEnforceResourceVersion: delete only the pod we looked at, unless it is finished or already going. */
function enforceResourceVersion(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp);
}

const isReady = (pod: KubeObject): boolean => isPodReady(pod as Pod);

const isConflict = (err: unknown) => err instanceof StatusError && err.code === 409;

/** The 429 of a budget the controller has not caught up with (createTooManyRequestsError). */
function stillProcessing(pdbName: string): StatusError {
  return new StatusError(429, 'TooManyRequests', VIOLATES, { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} is still being processed by the server.` }], retryAfterSeconds: 10 });
}

async function evict(ctx: SubresourceCreateContext): Promise<void> {
  const { store, namespace, name, body } = ctx;
  const evictionName = (body.metadata as { name?: unknown } | undefined)?.name ?? '';
  if (evictionName !== name) throw badRequest('name in URL does not match name in Eviction object');
  const opts = deleteOptionsOf(body, ctx.dryRun);
  const callerRV = opts.preconditions.resourceVersion !== undefined;

  // A pod the budgets need not guard is deleted at once (retried when it changed meanwhile, unless
  // the caller pinned its resourceVersion).
  let pod: KubeObject;
  for (let attempt = 0; ; attempt++) {
    pod = await store.get(namespace, name);
    if (!canIgnoreBudget(pod)) break;
    const rv = enforceResourceVersion(pod) && !callerRV ? pod.metadata?.resourceVersion : undefined;
    try {
      await store.delete(namespace, name, deleteParams(opts, rv));
      return;
    } catch (err) {
      if (isConflict(err) && !callerRV && attempt < MAX_RETRIES) continue;
      throw err;
    }
  }

  let pdbName = '';
  // An unready pod deleted without spending the budget must still be the pod we saw: had it turned
  // Ready meanwhile, deleting it would disrupt.
  let pinToSeen = false;
  const pdbStore = ctx.stores.tryStore('poddisruptionbudgets', 'policy');
  if (pdbStore) {
    const { items } = await pdbStore.list({ namespace });
    const labels = pod.metadata?.labels;
    const budgets = (items as PodDisruptionBudget[]).filter((p) => budgetSelects(p, labels));
    if (budgets.length > 1) throw new StatusError(500, '', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const pdb = budgets[0];
    if (pdb) {
      pdbName = pdb.metadata?.name ?? '';
      const st = pdb.status;
      let spend = true;
      if (!isReady(pod)) {
        // An unhealthy pod counts towards neither currentHealthy nor desiredHealthy: with
        // AlwaysAllow, or while the budget is met (IfHealthyBudget, the default), it goes for free.
        if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') spend = false;
        else if (st && st.currentHealthy >= st.desiredHealthy && st.desiredHealthy > 0) spend = false;
        pinToSeen = !spend;
      }
      if (spend) await spendDisruption(pdbStore, namespace, pdbName, name, opts.dryRun, ctx.clock);
    }
  }

  try {
    await store.delete(namespace, name, deleteParams(opts, pinToSeen ? pod.metadata?.resourceVersion : undefined));
  } catch (err) {
    // The pod changed since we judged it: the client retries on a 429.
    if (isConflict(err) && pinToSeen && !callerRV) throw stillProcessing(pdbName);
    throw err;
  }
}

/**
 * checkAndDecrement, retried on conflicts against the newest budget: refuse when the budget is not
 * up to date or allows no disruption, else take one and record the pod as disrupted.
 */
async function spendDisruption(pdbs: Store, namespace: string | undefined, pdbName: string, podName: string, dryRun: boolean, clock: Clock): Promise<void> {
  await pdbs.guaranteedUpdate(
    namespace,
    pdbName,
    (obj) => {
      const pdb = obj as PodDisruptionBudget;
      const st = (pdb.status ??= { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 });
      if ((st.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) throw stillProcessing(pdbName);
      if (st.disruptionsAllowed < 0) throw forbidden('poddisruptionbudget.policy', pdbName, 'pdb disruptions allowed is negative');
      if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
        throw forbidden('poddisruptionbudget.policy', pdbName, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
      }
      if (st.disruptionsAllowed === 0) {
        // No Retry-After: kube asks for none here (NewTooManyRequests with 0 seconds).
        throw new StatusError(429, 'TooManyRequests', VIOLATES, { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} needs ${st.desiredHealthy} healthy pods and has ${st.currentHealthy} currently` }] });
      }
      st.disruptionsAllowed--;
      if (st.disruptionsAllowed === 0) updateDisruptionAllowedCondition(pdb, clock.now());
      st.disruptedPods = { ...st.disruptedPods, [podName]: rfc3339(clock.now()) };
      return obj;
    },
    { subresource: 'status', dryRun, retryConflicts: true },
  );
}
