/**
 * HTTP/1.1 Upgrade (WebSocket): the request runs the route's upgrade chain — the same
 * features as any request (authz, telemetry, fault…) around a splicing terminal — with a
 * response object that writes raw to the client socket.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { handleRequest, type ProxyState } from './handle-request.ts';
import { UpgradeResponse } from './upgrade-response.ts';

export function handleUpgrade(state: ProxyState, req: IncomingMessage, socket: Socket, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  handleRequest(state, req, new UpgradeResponse(socket), { socket, head });
}
