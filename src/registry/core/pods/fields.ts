// Field selectors of Pods: the labels kube-apiserver's conversion function accepts, and each object's values.

import { notSupported, objectMetaFields, type FieldLabelSet } from '../../../api/fields.ts';
import type { Pod } from '../../../api/types.ts';
import type { FieldSelectors } from '../../kind.ts';

export const podFieldLabels: FieldLabelSet = {
  supported: new Set([
    'metadata.annotations',
    'metadata.labels',
    'metadata.name',
    'metadata.namespace',
    'metadata.uid',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.podIPs',
    'status.nominatedNodeName',
  ]),
  renames: { 'spec.host': 'spec.nodeName' },
  unsupported: notSupported,
};

export function podFields(pod: Pod): Record<string, string> {
  const s = pod.spec;
  const st = pod.status;
  return {
    ...objectMetaFields(pod.metadata, true),
    'spec.nodeName': s?.nodeName ?? '',
    'spec.restartPolicy': s?.restartPolicy ?? '',
    'spec.schedulerName': s?.schedulerName ?? '',
    'spec.serviceAccountName': s?.serviceAccountName ?? '',
    'spec.hostNetwork': String(s?.hostNetwork === true),
    'status.phase': st?.phase ?? '',
    'status.podIP': st?.podIPs?.[0]?.ip ?? st?.podIP ?? '',
    'status.nominatedNodeName': st?.nominatedNodeName ?? '',
  };
}

export const podFieldSelectors: FieldSelectors<Pod> = { labels: podFieldLabels, of: podFields };
