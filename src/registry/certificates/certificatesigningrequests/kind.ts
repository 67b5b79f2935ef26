// CertificateSigningRequests (certificates.k8s.io/v1, cluster-scoped): a PKCS#10 request for a named
// signer, approved or denied through the approval subresource (`kubectl certificate approve|deny`),
// then issued by the signer through the status subresource (src/controllers/certificates/).
//
// As kube-apiserver's csrStrategy: who asked is the server's to record (spec.username, uid, groups,
// extra come from the authenticated user, whatever the client sent), a new request carries no status,
// and the spec never changes after create; status writes keep the Approved/Denied conditions,
// approval writes change only the conditions.

import { APPROVED, DENIED, type CertificateSigningRequest } from '../../../api/certificates/csr.ts';
import { rfc3339 } from '../../../util/clock.ts';
import { notSupported, type FieldLabelSet } from '../../../api/fields.ts';
import {
  validateCertificateSigningRequest,
  validateCertificateSigningRequestApprovalUpdate,
  validateCertificateSigningRequestStatusUpdate,
  validateCertificateSigningRequestUpdate,
} from '../../../api/validation/certificates.ts';
import { defineKind, type RequestUser } from '../../kind.ts';
import { certificateSigningRequestPrinter } from './printer.ts';

/** PrepareForCreate: the requestor is the caller; no client may send a pre-approved or pre-issued request. */
export function recordRequestor(csr: CertificateSigningRequest, user: RequestUser | undefined): void {
  const spec = (csr.spec ??= { request: '', signerName: '' });
  delete spec.username;
  delete spec.uid;
  delete spec.groups;
  delete spec.extra;
  if (user) {
    spec.username = user.name;
    if (user.uid) spec.uid = user.uid;
    if (user.groups.length) spec.groups = [...user.groups];
    if (user.extra && Object.keys(user.extra).length) spec.extra = structuredClone(user.extra);
  }
  csr.status = {};
}

// `old` is read-only (Store.guaranteedUpdate): its parts are moved, never written.
function keepSpecAndStatus(csr: CertificateSigningRequest, old: CertificateSigningRequest): void {
  csr.spec = old.spec;
  if (old.status === undefined) delete csr.status;
  else csr.status = old.status;
}

/**
 * populateConditionTimestamps: conditions without lastUpdateTime get now; without lastTransitionTime,
 * that of the stored condition of the same type and status, else now. (The strategy has no clock of
 * its own: the wall clock, as kube-apiserver's nowFunc.)
 */
function populateConditionTimestamps(csr: CertificateSigningRequest, old: CertificateSigningRequest): void {
  const now = rfc3339(Date.now());
  for (const c of csr.status?.conditions ?? []) {
    c.lastUpdateTime ||= now;
    if (!c.lastTransitionTime) {
      c.lastTransitionTime = (old.status?.conditions ?? []).find((o) => o.type === c.type && o.status === c.status && o.lastTransitionTime)?.lastTransitionTime ?? now;
    }
  }
}

/**
 * The status subresource: the spec stays; Approved and Denied conditions keep their stored values when
 * their number is unchanged (adding or removing them is left to validation to refuse); the rest of the
 * status (the certificate, Failed and other conditions) is the writer's.
 */
function prepareStatusUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest): void {
  csr.spec = old.spec;
  const conditions = csr.status?.conditions;
  if (conditions) {
    for (const type of [APPROVED, DENIED]) {
      const was = (old.status?.conditions ?? []).filter((c) => c.type === type);
      const at = conditions.flatMap((c, i) => (c.type === type ? [i] : []));
      if (was.length === at.length) at.forEach((i, k) => (conditions[i] = structuredClone(was[k]!)));
    }
  }
  populateConditionTimestamps(csr, old);
}

/** The approval subresource: only the conditions change. */
function prepareApprovalUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest): void {
  populateConditionTimestamps(csr, old);
  const conditions = csr.status?.conditions;
  csr.spec = old.spec;
  const status = { ...(old.status ?? {}) };
  if (conditions === undefined) delete status.conditions;
  else status.conditions = conditions;
  csr.status = status;
}

// certificates/v1's field label conversion: only these two (no metadata.namespace).
const csrFieldLabels: FieldLabelSet = { supported: new Set(['metadata.name', 'spec.signerName']), unsupported: notSupported };

export const certificateSigningRequests = defineKind<CertificateSigningRequest>({
  identity: {
    group: 'certificates.k8s.io',
    version: 'v1',
    resource: 'certificatesigningrequests',
    singular: 'certificatesigningrequest',
    kind: 'CertificateSigningRequest',
    namespaced: false,
    shortNames: ['csr'],
  },
  strategy: {
    prepareForCreate: (csr, ctx) => recordRequestor(csr, ctx?.user),
    validate: validateCertificateSigningRequest,
    prepareForUpdate: keepSpecAndStatus,
    validateUpdate: validateCertificateSigningRequestUpdate,
  },
  printer: certificateSigningRequestPrinter,
  fields: {
    labels: csrFieldLabels,
    of: (csr) => ({ 'metadata.name': csr.metadata?.name ?? '', 'spec.signerName': csr.spec?.signerName ?? '' }),
  },
  subresources: {
    approval: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: prepareApprovalUpdate, validateUpdate: validateCertificateSigningRequestApprovalUpdate } },
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: prepareStatusUpdate, validateUpdate: validateCertificateSigningRequestStatusUpdate } },
  },
  createOnUpdate: false,
});
