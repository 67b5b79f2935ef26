// Plugin outcomes as values (the Kubernetes scheduler framework's *Status). A node that does not fit is
// an expected outcome, not an exception: plugins return `unschedulable(...)`, and only a bug or a broken
// invariant is an `Error` status (or a thrown coded error outside the plugin calls).

export type Code = 'Success' | 'Error' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Skip';

export interface Status {
  readonly code: Code;
  /** Reasons as they appear in FailedScheduling messages ("Insufficient cpu"); one status may carry several. */
  readonly reasons: readonly string[];
  /** The plugin that returned it (set by the framework). */
  readonly plugin?: string;
  /** For Error statuses: the underlying failure. */
  readonly error?: unknown;
}

const SUCCESS: Status = Object.freeze({ code: 'Success', reasons: Object.freeze([]) as readonly string[] });
const SKIP: Status = Object.freeze({ code: 'Skip', reasons: Object.freeze([]) as readonly string[] });

export function success(): Status {
  return SUCCESS;
}

/** PreFilter/PreScore: "this plugin has nothing to do for this pod"; its Filter/Score is then not called. */
export function skip(): Status {
  return SKIP;
}

/** Does not fit now; may fit after the cluster changes or after preemption. */
export function unschedulable(...reasons: string[]): Status {
  return { code: 'Unschedulable', reasons };
}

/** Does not fit, and preempting pods on this node would not help either. */
export function unresolvable(...reasons: string[]): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons };
}

export function errorStatus(error: unknown): Status {
  const msg = error instanceof Error ? error.message : String(error);
  return { code: 'Error', reasons: [msg], error };
}

export function withPlugin(s: Status, plugin: string): Status {
  return s.plugin === plugin ? s : { ...s, plugin };
}

export function isSuccess(s: Status): boolean {
  return s.code === 'Success';
}

/** Unschedulable or UnschedulableAndUnresolvable. */
export function isRejected(s: Status): boolean {
  return s.code === 'Unschedulable' || s.code === 'UnschedulableAndUnresolvable';
}

/** Reasons joined as Kubernetes' Status.Message() does. */
export function message(s: Status): string {
  return s.reasons.join(', ');
}
