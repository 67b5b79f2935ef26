// ConfigMaps (core/v1).

import type { ConfigMap } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defineKind } from '../../kind.ts';
import { configMapPrinter } from './printer.ts';

export const configMaps = defineKind<ConfigMap>({
  identity: { group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  strategy: { validate: v.validateConfigMap, validateUpdate: v.validateConfigMapUpdate },
  printer: configMapPrinter,
});
