// The streaming server's view of the node's pods: which sandbox and container instances back a
// (namespace, name) pod. The node agent implements it from its pod workers' state.
//
// Called by the streaming server once per request, concurrently; must be cheap and side-effect free.

export interface StreamingContainer {
  /** The runtime id of the current instance; absent until it was created. */
  containerId?: string;
  /**
   * How many times it restarted: the current instance logs to `<restartCount>.log`, the previous one
   * to `<restartCount - 1>.log` (the kubelet's CRI log layout).
   */
  restartCount: number;
}

export interface StreamingPod {
  uid: string;
  /** The pod sandbox id; absent until the sandbox exists (port-forward needs it). */
  sandboxId?: string;
  /** Regular, init and ephemeral containers by name. */
  containers: Record<string, StreamingContainer>;
}

export type PodResolver = (namespace: string, name: string) => StreamingPod | undefined | Promise<StreamingPod | undefined>;
