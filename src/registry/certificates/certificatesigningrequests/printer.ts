// certificates.k8s.io CertificateSigningRequest rows (printCertificateSigningRequest): SIGNERNAME,
// REQUESTOR (spec.username), REQUESTEDDURATION (spec.expirationSeconds as a human duration) and
// CONDITION: Denied, else Approved, else Pending, then ",Failed" and ",Issued" as they apply.

import { APPROVED, DENIED, FAILED, type CertificateSigningRequest } from '../../../api/certificates/csr.ts';
import type { KubeObject } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { humanDuration, timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

/** extractCSRStatus: the CONDITION cell. */
export function csrCondition(csr: CertificateSigningRequest): string {
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  let status = types.has(DENIED) ? 'Denied' : types.has(APPROVED) ? 'Approved' : 'Pending';
  if (types.has(FAILED)) status += ',Failed';
  if (csr.status?.certificate) status += ',Issued';
  return status;
}

export function printCertificateSigningRequest(csr: CertificateSigningRequest, now: number): PrintedRow {
  const seconds = csr.spec?.expirationSeconds;
  return {
    cells: [
      csr.metadata?.name ?? '',
      timestampSince(csr.metadata?.creationTimestamp, now),
      csr.spec?.signerName || '<none>',
      csr.spec?.username ?? '',
      seconds != null ? humanDuration(seconds * 1000) : '<none>',
      csrCondition(csr),
    ],
  };
}

// The descriptions are the certificates/v1beta1 SwaggerDoc texts kube-apiserver sends (REQUESTOR
// carries the `request` field's, as upstream does).
export const certificateSigningRequestPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    ageColumn(),
    column('SignerName', 'Requested signer for the request. It is a qualified name in the form: `scope-hostname.io/name`.'),
    column('Requestor', 'Base64-encoded PKCS#10 CSR data'),
    column('RequestedDuration', 'expirationSeconds is the requested duration of validity of the issued certificate.'),
    column('Condition', 'Conditions applied to the request, such as approval or denial.'),
  ],
  print: (obj: KubeObject, now: number) => printCertificateSigningRequest(obj as unknown as CertificateSigningRequest, now),
};
