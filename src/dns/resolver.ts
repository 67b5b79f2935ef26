// The seam between the DNS server and what it knows: the server asks whether a name is the cluster's
// (isLocal) and, if so, for its answer; anything else it forwards. ZoneIndex (records.ts) implements it.
// Called synchronously from the server's event loop, once per query not served from the answer cache;
// never concurrently. `generation` must change whenever an answer could change, as the server's cache of
// encoded answers is dropped when it does.
import type { Answer } from './records.ts';

export interface LocalResolver {
  readonly generation: number;
  /** `lower`: the asked name lowercased, without the trailing dot. */
  isLocal(lower: string): boolean;
  /** `asked`: the name as asked (echoed as the owner of the answers); `lower`: it lowercased. */
  resolve(asked: string, lower: string, qtype: number): Answer;
}
