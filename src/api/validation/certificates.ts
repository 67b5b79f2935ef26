// Validation of certificates.k8s.io/v1 CertificateSigningRequests, as pkg/apis/certificates/validation
// does it: the request must be a signed PKCS#10 PEM block, usages known and unique, the signer name a
// domain-qualified path, expirationSeconds at least ten minutes, conditions well-formed; updates may
// not remove Approved/Denied/Failed conditions, only the approval subresource may add or change
// Approved/Denied, and only the status subresource may set the certificate, once.
//
// Object metadata is checked by the store for every kind (rest.BeforeCreate/BeforeUpdate).

import { checkCsrSignature, parseCsr, ALL_KEY_USAGES, APPROVED, DENIED, FAILED, LEGACY_UNKNOWN_SIGNER, requestBytes, type CertificateSigningRequest, type CertificateSigningRequestCondition } from '../certificates/csr.ts';
import { X509Certificate } from 'node:crypto';
import { duplicate, FieldPath, forbiddenField, GoValue, invalid, notSupported, required, tooLong, type FieldError } from '../field.ts';
import { DNS1123_LABEL_MAX_LENGTH, DNS1123_SUBDOMAIN_MAX_LENGTH, isDNS1123Label, isDNS1123Subdomain } from './names.ts';

const spec = new FieldPath('spec');
const conditionsPath = new FieldPath('status').child('conditions');
const TRUE_ONLY = new Set([APPROVED, DENIED, FAILED]);

interface Options {
  allowSettingApprovalConditions: boolean;
  allowSettingCertificate: boolean;
  // Tolerated only when the stored object already has the problem (compatibility with old data).
  allowBothApprovedAndDenied: boolean;
  allowLegacySignerName: boolean;
  allowDuplicateConditionTypes: boolean;
  allowEmptyConditionType: boolean;
  allowArbitraryCertificate: boolean;
  allowUnknownUsages: boolean;
  allowDuplicateUsages: boolean;
}

export function validateCertificateSigningRequest(csr: CertificateSigningRequest): FieldError[] {
  return validate(csr, optionsFor(csr, undefined));
}

export function validateCertificateSigningRequestUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest): FieldError[] {
  return validateUpdate(csr, old, optionsFor(csr, old));
}

export function validateCertificateSigningRequestStatusUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest): FieldError[] {
  return validateUpdate(csr, old, { ...optionsFor(csr, old), allowSettingCertificate: true });
}

export function validateCertificateSigningRequestApprovalUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest): FieldError[] {
  return validateUpdate(csr, old, { ...optionsFor(csr, old), allowSettingApprovalConditions: true });
}

/** Go's `%#v` of a []byte, the bad value kube-apiserver prints for a request it cannot parse. */
export function goBytes(b: Buffer | undefined): GoValue {
  if (!b) return new GoValue('[]byte(nil)');
  return new GoValue(`[]byte{${[...b].map((x) => '0x' + x.toString(16)).join(', ')}}`);
}

function validate(csr: CertificateSigningRequest, o: Options): FieldError[] {
  const errs: FieldError[] = [];
  const s = csr.spec ?? ({} as CertificateSigningRequest['spec']);
  const bytes = s.request ? requestBytes(csr) : undefined;
  const problem = requestProblem(bytes);
  if (problem) errs.push(invalid(spec.child('request'), goBytes(bytes), problem));
  const usages = s.usages ?? [];
  if (usages.length === 0) errs.push(required(spec.child('usages'), ''));
  if (!o.allowUnknownUsages) {
    usages.forEach((u, i) => {
      if (!ALL_KEY_USAGES.includes(u)) errs.push(notSupported(spec.child('usages').index(i), u, [...ALL_KEY_USAGES]));
    });
  }
  if (!o.allowDuplicateUsages) {
    const seen = new Set<string>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errs.push(duplicate(spec.child('usages').index(i), u));
      seen.add(u);
    });
  }
  if (!o.allowLegacySignerName && s.signerName === LEGACY_UNKNOWN_SIGNER) {
    errs.push(invalid(spec.child('signerName'), s.signerName, 'the legacy signerName is not allowed via this API version'));
  } else {
    errs.push(...validateSignerName(spec.child('signerName'), s.signerName ?? ''));
  }
  if (s.expirationSeconds != null && s.expirationSeconds < 600) {
    errs.push(invalid(spec.child('expirationSeconds'), s.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr.status?.conditions ?? [], o));
  if (!o.allowArbitraryCertificate) {
    const problem = certificateProblem(csr.status?.certificate);
    if (problem) errs.push(invalid(new FieldPath('status').child('certificate'), '<certificate data>', problem));
  }
  return errs;
}

function requestProblem(bytes: Buffer | undefined): string | undefined {
  try {
    return checkCsrSignature(parseCsr(bytes ?? Buffer.alloc(0)));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** apivalidation.ValidateSignerName: `<domain>/<path>`, each part made of DNS labels. */
export function validateSignerName(p: FieldPath, signerName: string): FieldError[] {
  if (!signerName) return [required(p, '')];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [invalid(p, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, path] = segments as [string, string];
  const errs: FieldError[] = [];
  if (domain.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(tooLong(p, '', DNS1123_SUBDOMAIN_MAX_LENGTH));
  const domainLabels = domain.split('.');
  for (const lbl of domainLabels) {
    const bad = isDNS1123Label(lbl);
    if (bad.length) {
      for (const e of bad) errs.push(invalid(p, domain, `validating label ${JSON.stringify(lbl)}: ${e}`));
      break;
    }
  }
  if (domainLabels.length < 2) errs.push(invalid(p, domain, 'should be a domain with at least two segments separated by dots'));
  for (const lbl of path.split('.')) {
    const bad = isDNS1123Subdomain(lbl);
    if (bad.length) {
      for (const e of bad) errs.push(invalid(p, path, `validating label ${JSON.stringify(lbl)}: ${e}`));
      break;
    }
  }
  const maxSignerName = DNS1123_SUBDOMAIN_MAX_LENGTH + (DNS1123_SUBDOMAIN_MAX_LENGTH + DNS1123_LABEL_MAX_LENGTH + 1) + 1;
  if (signerName.length > maxSignerName) errs.push(tooLong(p, '', maxSignerName));
  return errs;
}

function validateConditions(conditions: CertificateSigningRequestCondition[], o: Options): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditions.forEach((c, i) => {
    const p = conditionsPath.index(i);
    if (!o.allowEmptyConditionType && !c.type) errs.push(required(p.child('type'), ''));
    const allowed = TRUE_ONLY.has(c.type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (!c.status) errs.push(required(p.child('status'), ''));
    else if (!allowed.includes(c.status)) errs.push(notSupported(p.child('status'), c.status, allowed));
    if (!o.allowBothApprovedAndDenied) {
      if (c.type === APPROVED) {
        approved = true;
        if (denied) errs.push(invalid(p.child('type'), c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === DENIED) {
        denied = true;
        if (approved) errs.push(invalid(p.child('type'), c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!o.allowDuplicateConditionTypes) {
      if (seen.has(c.type)) errs.push(duplicate(p.child('type'), c.type));
      seen.add(c.type);
    }
  });
  return errs;
}

/** validateCertificate: status.certificate, when set, is one or more CERTIFICATE PEM blocks without headers. */
function certificateProblem(b64: string | undefined): string | undefined {
  if (!b64) return undefined;
  const text = Buffer.from(b64, 'base64').toString('latin1');
  const blocks = [...text.matchAll(/-----BEGIN ([^-\n]+)-----\r?\n([\s\S]*?)-----END \1-----/g)];
  if (blocks.length === 0) return 'must contain at least one CERTIFICATE PEM block';
  for (const b of blocks) {
    if (b[1] !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(b[1])}`;
    if (/^[\w-]+:/m.test(b[2]!)) return 'no PEM block headers are permitted';
    if (!parsesAsCertificate(Buffer.from(b[2]!.replace(/\s+/g, ''), 'base64'))) return 'x509: malformed certificate';
  }
  return undefined;
}

function parsesAsCertificate(der: Buffer): boolean {
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

function conditionsOf(csr: CertificateSigningRequest, type: string): CertificateSigningRequestCondition[] {
  return (csr.status?.conditions ?? []).filter((c) => c.type === type);
}

function validateUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest, o: Options): FieldError[] {
  const errs = validate(csr, o);
  for (const t of [APPROVED, DENIED, FAILED]) {
    if (conditionsOf(csr, t).length < conditionsOf(old, t).length) errs.push(forbiddenField(conditionsPath, `updates may not remove a condition of type ${JSON.stringify(t)}`));
  }
  if (!o.allowSettingApprovalConditions) {
    for (const t of [APPROVED, DENIED]) {
      const was = conditionsOf(old, t);
      const now = conditionsOf(csr, t);
      if (now.length > was.length) errs.push(forbiddenField(conditionsPath, `updates may not add a condition of type ${JSON.stringify(t)}`));
      else if (now.length === was.length && JSON.stringify(now) !== JSON.stringify(was)) {
        // kube-apiserver appends a cmp.Diff of the two lists; the JSON of both says the same.
        errs.push(forbiddenField(conditionsPath, `updates may not modify a condition of type ${JSON.stringify(t)}\n- ${JSON.stringify(was)}\n+ ${JSON.stringify(now)}`));
      }
    }
  }
  const cert = csr.status?.certificate ?? '';
  const oldCert = old.status?.certificate ?? '';
  if (cert !== oldCert) {
    if (!o.allowSettingCertificate) errs.push(forbiddenField(new FieldPath('status').child('certificate'), 'updates may not set certificate content'));
    else if (oldCert) errs.push(forbiddenField(new FieldPath('status').child('certificate'), 'updates may not modify existing certificate content'));
  }
  return errs;
}

function optionsFor(csr: CertificateSigningRequest, old: CertificateSigningRequest | undefined): Options {
  const oldConditions = old?.status?.conditions ?? [];
  const types = oldConditions.map((c) => c.type);
  const oldUsages = old?.spec?.usages ?? [];
  return {
    allowSettingApprovalConditions: false,
    allowSettingCertificate: false,
    allowBothApprovedAndDenied: types.includes(APPROVED) && types.includes(DENIED),
    allowLegacySignerName: old?.spec?.signerName === LEGACY_UNKNOWN_SIGNER,
    allowDuplicateConditionTypes: new Set(types).size !== types.length,
    allowEmptyConditionType: types.includes(''),
    allowArbitraryCertificate: old !== undefined && ((csr.status?.certificate ?? '') === (old.status?.certificate ?? '') || certificateProblem(old.status?.certificate) !== undefined),
    allowUnknownUsages: oldUsages.some((u) => !ALL_KEY_USAGES.includes(u)),
    allowDuplicateUsages: new Set(oldUsages).size !== oldUsages.length,
  };
}
