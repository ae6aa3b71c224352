/**
 * Reads the first bytes of a connection without consuming them: chunks are collected until
 * `decide` can classify them, then pushed back (`unshift`) for whoever takes the socket.
 * `timeoutMs` bounds the wait (server-first protocols send nothing: the caller gets null).
 */
import type { Socket } from 'node:net';

export function peek<T>(socket: Socket, decide: (buf: Buffer) => T | undefined, timeoutMs: number, done: (result: T | null, buf: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (r: T | null): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.pause();
    if (buf.length > 0) socket.unshift(buf);
    done(r, buf);
  };
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const r = decide(buf);
    if (r !== undefined) finish(r);
    else if (buf.length > 16_384 + 5) finish(null);
  };
  const onEnd = (): void => finish(null);
  const timer = setTimeout(() => finish(null), timeoutMs);
  socket.on('data', onData);
  socket.once('end', onEnd);
  // A previous peek paused the socket and pushed its bytes back: flow again to re-read them.
  socket.resume();
}
