// PodTemplates (core/v1): stored templates, printed with their containers, images and pod labels.

import type { KubeObject, PodTemplate } from '../../../api/types.ts';
import { defaultPodSpec } from '../../../api/defaults/pod.ts';
import { validatePodTemplate, validatePodTemplateUpdate } from '../../../api/validation/replicasets.ts';
import { defineKind } from '../../kind.ts';
import { column, nameColumn } from '../../printing/columns.ts';
import type { TablePrinter } from '../../printing/types.ts';
import { labelsCell, templateCells } from '../../printing/workloads.ts';

const podTemplatePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Containers', 'Containers in the pod template.'),
    column('Images', 'Images referenced by the pod template.'),
    column('Pod Labels', 'Labels of the pod template.'),
  ],
  print: (obj: KubeObject) => {
    const pt = obj as PodTemplate;
    return { cells: [pt.metadata?.name ?? '', ...templateCells(pt.template), labelsCell(pt.template?.metadata?.labels)] };
  },
};

export const podTemplates = defineKind<PodTemplate>({
  identity: { group: '', version: 'v1', resource: 'podtemplates', singular: 'podtemplate', kind: 'PodTemplate', namespaced: true },
  strategy: {
    defaults: (pt) => {
      if (pt.template?.spec && typeof pt.template.spec === 'object') defaultPodSpec(pt.template.spec);
    },
    validate: validatePodTemplate,
    validateUpdate: validatePodTemplateUpdate,
  },
  printer: podTemplatePrinter,
});
