/**
 * A DownstreamResponse over the raw client socket of an HTTP/1.1 Upgrade request (Node gives
 * no ServerResponse for those), so the chain's features and local replies work unchanged.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { DownstreamResponse, Headers } from '../chain/types.ts';

export class UpgradeResponse implements DownstreamResponse {
  headersSent = false;
  private readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
  }
  writeHead(status: number, headers: Headers): this {
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (const k in headers) {
      const v = headers[k]!;
      if (Array.isArray(v)) for (const one of v) head += `${k}: ${one}\r\n`;
      else head += `${k}: ${v}\r\n`;
    }
    // A non-101 answer ends the exchange: say so, the socket is not reused.
    if (status !== 101 && headers.connection === undefined) head += 'connection: close\r\n';
    this.headersSent = true;
    this.socket.write(`${head}\r\n`);
    return this;
  }
  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }
  end(chunk?: Buffer | string): this {
    if (chunk !== undefined) this.socket.end(chunk);
    else this.socket.end();
    return this;
  }
  addTrailers(): void {}
  destroy(): this {
    this.socket.destroy();
    return this;
  }
  once(event: 'drain' | 'close', cb: () => void): this {
    this.socket.once(event, cb);
    return this;
  }
}
