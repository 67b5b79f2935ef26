// rbac.authorization.k8s.io/v1 objects, in the mutable form the server and controllers handle.
import type * as rbac from 'kubernetes-types/rbac/v1.js';
import type { ObjectMeta, Mutable } from '../types.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export type PolicyRule = Mutable<rbac.PolicyRule>;
export type Subject = Mutable<rbac.Subject>;
export type RoleRef = Mutable<rbac.RoleRef>;
export type AggregationRule = Mutable<rbac.AggregationRule>;
export type Role = Mutable<Omit<rbac.Role, 'metadata'>> & { metadata?: ObjectMeta };
export type ClusterRole = Mutable<Omit<rbac.ClusterRole, 'metadata'>> & { metadata?: ObjectMeta };
export type RoleBinding = Mutable<Omit<rbac.RoleBinding, 'metadata'>> & { metadata?: ObjectMeta };
export type ClusterRoleBinding = Mutable<Omit<rbac.ClusterRoleBinding, 'metadata'>> & { metadata?: ObjectMeta };
