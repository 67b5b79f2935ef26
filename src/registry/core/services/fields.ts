// Field selectors of Services: kube-apiserver's conversion function accepts spec.clusterIP (so the
// proxy and the kubelet can leave headless Services out, `spec.clusterIP!=None`) and spec.type
// beside the metadata fields (Kubernetes 1.31+).

import { notSupported, objectMetaFields, type FieldLabelSet } from '../../../api/fields.ts';
import type { Service } from '../../../api/types.ts';
import type { FieldSelectors } from '../../kind.ts';

export const serviceFieldLabels: FieldLabelSet = { supported: new Set(['metadata.namespace', 'metadata.name', 'spec.clusterIP', 'spec.type']), unsupported: notSupported };

export function serviceFields(svc: Service): Record<string, string> {
  return { ...objectMetaFields(svc.metadata, true), 'spec.clusterIP': svc.spec?.clusterIP ?? '', 'spec.type': svc.spec?.type ?? '' };
}

export const serviceFieldSelectors: FieldSelectors<Service> = { labels: serviceFieldLabels, of: serviceFields };
