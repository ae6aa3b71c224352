/**
 * HTTP/1.1 Upgrade (WebSocket): the request runs the route's upgrade chain — the same
 * features as any request (authz, telemetry, fault…) around a splicing terminal — with a
 * response object that writes raw to the client socket.
 *
 * Nothing the client sends after the upgrade request may reach the app before the app has
 * switched protocols: such bytes would be parsed by the app as a second HTTP request that no
 * policy checked (request smuggling). A WebSocket client must wait for the 101 (RFC 6455
 * §4.1), so bytes already read past the head are refused with a 400, and the socket is paused
 * until the terminal splices it after a 101.
 */
import type { IncomingMessage } from 'node:http';
import type { H1Request } from '../h1/server-request.ts';
import type { Socket } from 'node:net';
import { getConnMeta } from './conn-meta.ts';
import { handleRequest, type ProxyState } from './handle-request.ts';
import { rawLocalReply } from './local-reply.ts';
import { UpgradeResponse } from './upgrade-response.ts';

export function handleUpgrade(state: ProxyState, req: IncomingMessage | H1Request, socket: Socket, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  socket.pause();
  if (head.length > 0) {
    state.onLocalReply?.(getConnMeta(socket)?.direction ?? 'outbound', 400, 'DPE', req);
    socket.end(rawLocalReply(400, 'Bad Request', 'MESHLET_PROXY_UPGRADE_EARLY_DATA', 'DPE'));
    socket.destroySoon();
    return;
  }
  handleRequest(state, req, new UpgradeResponse(socket), { socket, head });
}
