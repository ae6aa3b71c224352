/** Demo frontend: GET /product → reviews (through its proxy); reports which reviews version answered. */
import { call, forwardHeaders, json, serve } from './lib.ts';

serve('frontend', async (req, res) => {
  if (req.url === '/healthz') return json(res, 200, { ok: true });
  const r = await call('http://reviews:9080/reviews/1', forwardHeaders(req.headers));
  let reviews: unknown = r.body;
  try {
    reviews = JSON.parse(r.body);
  } catch {
    // a proxy local reply (text): keep it as is
  }
  const flags = r.headers['x-meshlet-flags'];
  json(res, r.status === 200 ? 200 : 502, { product: 1, reviewsStatus: r.status, reviewsVersion: r.headers['x-demo-version'] ?? null, flags: flags ?? null, reviews }, { 'x-demo-reviews-version': String(r.headers['x-demo-version'] ?? 'none') });
});
