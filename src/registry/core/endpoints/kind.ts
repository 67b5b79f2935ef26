// Endpoints (core/v1): the addresses behind a Service, kept by the Endpoints controller for the
// readers that still use them (`kubectl describe service`), and by the API server for `kubernetes`.

import type { Endpoints } from '../../../api/types.ts';
import { defaultEndpoints, validateEndpoints, validateEndpointsUpdate } from '../../../api/validation/endpoints.ts';
import { defineKind } from '../../kind.ts';
import { endpointsPrinter } from './printer.ts';

export const endpoints = defineKind<Endpoints>({
  identity: { group: '', version: 'v1', resource: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'] },
  strategy: { defaults: defaultEndpoints, validate: validateEndpoints, validateUpdate: validateEndpointsUpdate },
  printer: endpointsPrinter,
});
