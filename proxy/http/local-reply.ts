/**
 * Replies the proxy makes itself: they always carry `x-meshlet-flags` (Envoy response flags;
 * DPE downstream protocol error, DT downstream timeout, NC no config yet, IE internal error
 * are used here besides the data-path flags) and `x-meshlet-error` (catalog code).
 */
import { errorEntry, type ErrorCode } from '../../common/errors.ts';
import type { DownstreamResponse, Headers } from '../chain/types.ts';

export function localReply(res: DownstreamResponse, status: number, flag: string, code: ErrorCode, extra?: Headers): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${errorEntry(code).message}\n`;
  const headers: Headers = { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'x-meshlet-error': code, ...extra };
  if (flag !== '') headers['x-meshlet-flags'] = flag;
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * A raw HTTP/1.1 error response for a socket the HTTP parser gave up on (or an upgrade).
 * `code` is checked against the catalog when the reply is made (the codec passes it as a string).
 */
export function rawLocalReply(status: number, reason: string, code: string, flag: string): string {
  const body = `${errorEntry(code as ErrorCode).message}\n`;
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-meshlet-flags: ${flag}\r\nx-meshlet-error: ${code}\r\nconnection: close\r\n\r\n${body}`;
}
