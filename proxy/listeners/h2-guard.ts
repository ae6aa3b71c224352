/**
 * Rapid-reset defence for the proxy's HTTP/2 server (the CVE-2023-44487 pattern: HEADERS
 * then RST_STREAM at once, so a client costs the proxy an upstream request per two frames).
 *
 * - A stream the client has already reset when its request event fires is never handed to
 *   the request path (node:http2 emits 'stream' a tick after the frames were parsed, so a
 *   RST_STREAM in the same read has closed it by then).
 * - Per connection, client resets of streams whose response was not finished are counted
 *   against a count-based budget, as Envoy's premature-reset check does: once more than
 *   `burst` streams were reset and resets are more than half of all streams, the connection
 *   gets GOAWAY ENHANCE_YOUR_CALM and is closed. No clock: the decision depends only on the
 *   frames the client sent, so it is the same under any load.
 */
import { constants, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';

/** Resets tolerated per connection before the ratio check applies (Envoy's default is 500 streams; nghttp2's burst is 1000). */
export const RESET_BURST = 100;

/** Counts one connection's streams and client resets; pure, so tests can drive it frame by frame. */
export class ResetBudget {
  streams = 0;
  resets = 0;
  private readonly burst: number;
  constructor(burst: number = RESET_BURST) {
    this.burst = burst;
  }
  stream(): void {
    this.streams++;
  }
  /** Records a client reset; true when the connection has spent its budget. */
  reset(): boolean {
    this.resets++;
    return this.resets > this.burst && this.resets * 2 > this.streams;
  }
}

export interface H2GuardHooks {
  /** Per connection; default RESET_BURST. */
  burst?: number;
  /** A client reset a stream before its response was finished. */
  onClientReset?: () => void;
  /** The connection was sent GOAWAY ENHANCE_YOUR_CALM. */
  onGoaway?: (session: ServerHttp2Session, budget: ResetBudget) => void;
}

interface GuardedSession extends ServerHttp2Session {
  meshletBudget?: ResetBudget;
  meshletHooks?: H2GuardHooks;
}

/** Gives a new session its budget (call from the server's 'session' event). */
export function guardSession(session: ServerHttp2Session, hooks: H2GuardHooks): void {
  const s = session as GuardedSession;
  s.meshletBudget = new ResetBudget(hooks.burst);
  s.meshletHooks = hooks;
  s.on('stream', onSessionStream);
}

function clientReset(session: GuardedSession): void {
  const budget = session.meshletBudget;
  if (budget === undefined || session.destroyed) return;
  session.meshletHooks!.onClientReset?.();
  if (!budget.reset()) return;
  session.meshletHooks!.onGoaway?.(session, budget);
  // nghttp2 sends GOAWAY with this code, flushes it, then closes the socket. (Not
  // destroy(undefined, code): the undefined error defaults to NO_ERROR and wins.)
  session.destroy(new Error('HTTP/2 reset flood'), constants.NGHTTP2_ENHANCE_YOUR_CALM);
}

/** Shared listeners (no closure per stream); `this` is the session or the stream. */
function onSessionStream(this: GuardedSession, stream: ServerHttp2Stream): void {
  this.meshletBudget!.stream();
  // Reset in the same read as its HEADERS: already destroyed when 'stream' is emitted.
  if (stream.destroyed) clientReset(this);
  // 'aborted' fires at most once: `on` avoids the wrapper `once` allocates per stream.
  else stream.on('aborted', onAborted);
}

/**
 * 'aborted' fires when a stream closes with its response unfinished. When the proxy itself
 * destroys a stream, `destroyed` is already set; when the client reset it, it is not yet.
 */
function onAborted(this: ServerHttp2Stream): void {
  if (!this.destroyed && this.session !== undefined) clientReset(this.session as GuardedSession);
}

/** Whether a request of the HTTP/2 server may start: not when the client already reset its stream. */
export function admitStream(stream: ServerHttp2Stream): boolean {
  return !stream.destroyed;
}
