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

/** What a bearer token authenticates as (TokenReview's answer). */
export interface TokenAuthResult {
  user: User;
  /** The audiences the token is good for among those asked; empty when none were asked. */
  audiences: string[];
}

/**
 * Bearer tokens checked by what they are rather than by a table (service-account JWTs): the
 * token's user, or null when it is valid for none of `audiences` (empty = the API server's own).
 */
export interface TokenAuthenticator {
  authenticateToken(token: string, audiences: readonly string[]): Promise<TokenAuthResult | null>;
  /**
   * As authenticateToken, but a token the authenticator recognises as its own and refuses comes back
   * with the reason (kube's authenticator error, TokenReview's status.error); null still means "not
   * mine". Optional: without it a refusal carries no reason.
   */
  reviewToken?(token: string, audiences: readonly string[]): Promise<TokenAuthResult | TokenRefusal | null>;
}

/** Why a recognised token was refused, in kube-apiserver's words. */
export interface TokenRefusal {
  error: string;
}
