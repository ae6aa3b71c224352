/**
 * Mirror (shadow) traffic: a copy of the request goes to the mirror cluster with the host
 * suffixed `-shadow` (Envoy's convention); its response is read and dropped. The copy never
 * holds back the real request: its body is teed without backpressure and dropped if the
 * shadow falls more than 1 MiB behind.
 */
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Random } from '../../common/clock.ts';
import type { ClusterRuntime, Feature, Headers, RequestContext } from '../chain/types.ts';
import type { PoolRegistry } from '../upstream/pools.ts';
import { hasBody } from '../upstream/forward.ts';

const MAX_SHADOW_BUFFER = 1 << 20;

const discard: Dispatcher.DispatchHandler = {
  onRequestStart() {},
  onResponseStart() {},
  onResponseData() {},
  onResponseEnd() {},
  onResponseError() {},
};

function shadowHost(host: string): string {
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? `${host.slice(0, colon)}-shadow${host.slice(colon)}` : `${host}-shadow`;
}

/** Splits the request body into the main stream and one stream per shadow. */
function tee(ctx: RequestContext, shadows: number): PassThrough[] {
  const main = new PassThrough();
  const copies = Array.from({ length: shadows }, () => new PassThrough());
  const req = ctx.req;
  req.on('data', (c: Buffer) => {
    for (const s of copies) {
      if (s.destroyed) continue;
      if (s.writableLength > MAX_SHADOW_BUFFER) s.destroy();
      else s.write(c);
    }
    if (!main.write(c)) {
      req.pause();
      main.once('drain', () => req.resume());
    }
  });
  req.once('end', () => {
    main.end();
    for (const s of copies) s.end();
  });
  req.once('error', (err) => {
    main.destroy(err);
    for (const s of copies) s.destroy();
  });
  for (const s of copies) s.on('error', () => undefined);
  ctx.body = main;
  return copies;
}

export function mirrorFeature(pools: PoolRegistry, random: Random): Feature {
  return (next, rt) => {
    const mirrors = rt.mirrors;
    if (mirrors.length === 0) return next;
    const send = (cl: ClusterRuntime, ctx: RequestContext, body: PassThrough | null): void => {
      const ep = cl.balancer.pick(random);
      if (ep === undefined) {
        body?.destroy();
        return;
      }
      const headers: Headers = { ...ctx.headers, host: shadowHost(String(ctx.headers.host ?? ctx.attrs.authority)) };
      try {
        pools.get(cl, ep).dispatch({ path: ctx.path, method: ctx.attrs.method as Dispatcher.HttpMethod, headers: headers as Record<string, string>, body }, discard);
      } catch {
        body?.destroy();
      }
    };
    return (ctx) => {
      if (ctx.upgrade !== undefined) return next(ctx); // no shadow copies of WebSocket sessions
      let chosen: ClusterRuntime[] | undefined;
      for (const m of mirrors) if (m.percentage >= 100 || random() * 100 < m.percentage) (chosen ??= []).push(m.cluster);
      if (chosen !== undefined) {
        const bodies = hasBody(ctx) ? tee(ctx, chosen.length) : undefined;
        chosen.forEach((cl, i) => send(cl, ctx, bodies?.[i] ?? null));
      }
      next(ctx);
    };
  };
}
