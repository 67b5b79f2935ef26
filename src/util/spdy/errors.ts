// Coded failures of the SPDY layer. Expected endings (a peer's RST_STREAM CANCEL, a GOAWAY, the
// transport closing after both sides finished) are not errors; these are.

export type SpdyErrorCode =
  /** Malformed frame or header block, wrong version, a stream id that breaks the rules. */
  | 'ERR_SPDY_PROTOCOL'
  /** The peer did not answer (SYN_REPLY, PING) in time. */
  | 'ERR_SPDY_TIMEOUT'
  /** The peer reset a stream before replying to it. */
  | 'ERR_SPDY_STREAM_REFUSED'
  /** The session is closed or going away: no new streams. */
  | 'ERR_SPDY_SESSION_CLOSED'
  /** An HTTP upgrade was answered with something other than 101. */
  | 'ERR_SPDY_UPGRADE_REJECTED';

export class SpdyError extends Error {
  readonly code: SpdyErrorCode;
  constructor(code: SpdyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpdyError';
    this.code = code;
  }
}
