// Leases (coordination.k8s.io/v1): node heartbeats, and leader election later.

import type { Lease } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defineKind } from '../../kind.ts';
import { leasePrinter } from './printer.ts';

export const leases = defineKind<Lease>({
  identity: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', namespaced: true },
  strategy: { validate: v.validateLease, validateUpdate: v.validateLeaseUpdate },
  printer: leasePrinter,
});
