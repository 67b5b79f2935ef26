// Nodes (core/v1): registered by their agents; status is the agent's, spec the user's and controllers'.

import type { Node } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, statusOnly } from '../../rules.ts';
import { nodeFieldSelectors } from './fields.ts';
import { nodePrinter } from './printer.ts';

export const nodes = defineKind<Node>({
  identity: { group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'] },
  strategy: {
    prepareForUpdate: (o, old) => keepStatus(o, old),
    validate: v.validateNode,
    validateUpdate: v.validateNodeUpdate,
  },
  printer: nodePrinter,
  fields: nodeFieldSelectors,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: v.validateNodeUpdate } },
    // To the node agent's own endpoints (/healthz, /pods...), or another port on the node's address.
    proxy: {
      verbs: ['create', 'delete', 'get', 'patch', 'update'],
      kind: { group: '', version: 'v1', kind: 'NodeProxyOptions' },
      connect: true,
      proxy: { location: (node, want) => ({ to: 'node', nodeName: node.metadata?.name ?? '', scheme: want.scheme, port: want.port }) },
    },
  },
  returnsDeletedObject: true,
});
