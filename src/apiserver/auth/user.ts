// The caller of a request, as authentication establishes it and authorization and admission see it.

export interface User {
  name: string;
  groups: string[];
  /** How the user was authenticated; for logs and audit, never for decisions. */
  via?: 'token' | 'x509' | 'impersonation' | 'none';
  uid?: string;
  extra?: Record<string, string[]>;
}

/** The identity of requests made when no authenticator is configured (in-process tests). */
export const UNAUTHENTICATED_ADMIN: User = { name: 'admin', groups: ['system:masters', 'system:authenticated'], via: 'none' };
