// Which node a user is (kube's pkg/auth/nodeidentifier): a user named system:node:<name> in the
// group system:nodes. Anyone else, including the join token (system:bootstrap:<id>),
// is not a node for the Node authorizer and NodeRestriction; a node user with an empty name is a
// node that cannot be identified (both then refuse it).

import type { User } from '../user.ts';

export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';

export interface NodeIdentity {
  isNode: boolean;
  /** "" when the user is not a node or its name is empty. */
  nodeName: string;
}

export function nodeIdentity(user: User | undefined): NodeIdentity {
  if (!user || !user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return { isNode: false, nodeName: '' };
  return { isNode: true, nodeName: user.name.slice(NODE_USER_PREFIX.length) };
}
