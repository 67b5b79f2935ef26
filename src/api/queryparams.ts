// Boolean query parameters, read as kube-apiserver's parameter codec reads every bool and *bool
// field of its option kinds (ListOptions' watch, allowWatchBookmarks and sendInitialEvents;
// PodLogOptions' follow, previous, timestamps and insecureSkipTLSVerifyBackend; PodExecOptions' and
// PodAttachOptions' stdin, stdout, stderr and tty; PatchOptions' force; DeleteOptions'
// orphanDependents): apimachinery's Convert_Slice_string_To_bool. Only an absent parameter, "0" or
// "false" in any case is false; any other value is true, the empty string ("?watch") and "True"
// (what the Python client sends) included. The first value counts when one is repeated.
//
// The API server and the node agent both read with this one function. Pure.

/** The parameter's value as Kubernetes converts it, or undefined when the parameter is absent (for *bool fields). */
export function queryBool(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  return !(raw === '0' || raw.toLowerCase() === 'false');
}

/** A plain bool field: absent is false. */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  return queryBool(query, name) ?? false;
}
