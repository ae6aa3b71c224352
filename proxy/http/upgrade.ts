/**
 * HTTP/1.1 Upgrade (WebSocket): route as usual, then replay the request head to an
 * endpoint and splice the two sockets. Istio enables websocket upgrades on every route.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { applyHeaderOps, upstreamHeaders } from './headers.ts';
import { findRoute, type ProxyState } from './handle-request.ts';
import { getConnMeta } from './conn-meta.ts';
import { rawLocalReply } from './local-reply.ts';
import { NodeAttrs, authorityPort } from './node-attrs.ts';

function reply(socket: Socket, status: number, reason: string, code: string, flag: string): void {
  socket.end(rawLocalReply(status, reason, code, flag));
}

export function handleUpgrade(state: ProxyState, req: IncomingMessage, socket: Socket, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const rt = state.current;
  const meta = getConnMeta(req.socket);
  const authority = req.headers.host ?? '';
  if (rt === undefined || authority === '') {
    reply(socket, 503, 'Service Unavailable', 'MESHLET_PROXY_NOT_READY', 'NC');
    return;
  }
  const attrs = new NodeAttrs(req.method ?? 'GET', req.url ?? '/', authority, 'http', meta?.dstPort ?? authorityPort(authority, 'http'), req.headers);
  const found = findRoute(rt, meta?.direction ?? 'outbound', meta?.dstAddress, meta?.dstPort, attrs);
  const dest = found?.entry.pick?.pick(state.random);
  if (found === undefined || dest === undefined) {
    reply(socket, 404, 'Not Found', 'MESHLET_PROXY_NO_ROUTE', 'NR');
    return;
  }
  const cl = dest.cluster;
  const ep = cl.balancer.pick(state.random);
  if (ep === undefined) {
    reply(socket, 503, 'Service Unavailable', 'MESHLET_PROXY_NO_HEALTHY_UPSTREAM', 'UH');
    return;
  }
  const r = found.entry.runtime;
  const headers = upstreamHeaders(req.headers, r.route.rewrite?.authority ?? authority, req.socket.remoteAddress ?? '', 'http');
  headers.connection = 'Upgrade';
  headers.upgrade = req.headers.upgrade ?? 'websocket';
  if (r.requestHeaders !== undefined) applyHeaderOps(headers, r.requestHeaders);
  if (dest.request !== undefined) applyHeaderOps(headers, dest.request);
  const path = r.rewritePath === undefined ? (req.url ?? '/') : r.rewritePath(attrs.path, found.match) + (attrs.query === '' ? '' : `?${attrs.query}`);
  let text = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) text += `${k}: ${one}\r\n`;
  const up = connect({ host: ep.endpoint.address, port: ep.endpoint.port, ...(cl.localAddress === undefined ? {} : { localAddress: cl.localAddress }) });
  let connected = false;
  up.once('connect', () => {
    connected = true;
    up.setNoDelay(true);
    up.write(`${text}\r\n`);
    if (head.length > 0) up.write(head);
    socket.pipe(up);
    up.pipe(socket);
  });
  up.on('error', () => {
    if (!connected) reply(socket, 503, 'Service Unavailable', 'MESHLET_PROXY_UPSTREAM_CONNECT', 'UF');
    else socket.destroy();
  });
  socket.once('close', () => up.destroy());
  up.once('close', () => socket.destroy());
}
