// A bearer token that changes while a client lives (a service-account token kept fresh by
// TokenRequest, as client-go's token sources for kube-controller-manager's per-controller clients).
//
// Called by ApiClient before every request, concurrently from anywhere: token() must be cheap when the
// token is fresh and may share one fetch among concurrent callers. A rejection fails that request
// (its caller backs off as for any failed request). invalidate() is told about a token the server
// answered 401 to; it must be idempotent.

export interface TokenSource {
  token(): string | Promise<string>;
  invalidate?(token: string): void;
}
