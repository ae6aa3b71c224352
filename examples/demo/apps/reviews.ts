/**
 * Demo reviews, three versions (MESHLET_LABEL_VERSION): v1 shows no stars; v2 and v3 call
 * ratings (through their proxy). Every answer says its version in `x-demo-version`, and
 * what the app saw of its caller: the mTLS peer its sidecar vouches for
 * (`x-forwarded-client-cert` → `x-demo-client-cert`) and the source address of the
 * connection (`x-demo-remote-address`: its sidecar's 127.0.0.6 in local mode).
 */
import { call, forwardHeaders, json, serve } from './lib.ts';

const version = process.env.MESHLET_LABEL_VERSION ?? 'v1';

serve(`reviews-${version}`, async (req, res) => {
  const h = { 'x-demo-version': version, 'x-demo-client-cert': String(req.headers['x-forwarded-client-cert'] ?? ''), 'x-demo-remote-address': req.socket.remoteAddress ?? '' };
  if (version === 'v1') return json(res, 200, { version, reviews: ['An extremely entertaining play by Shakespeare.'] }, h);
  const r = await call('http://ratings:9080/ratings/1', forwardHeaders(req.headers));
  if (r.status !== 200) return json(res, 200, { version, reviews: ['(ratings unavailable)'], ratingsStatus: r.status }, h);
  const stars = (JSON.parse(r.body) as { stars: number }).stars;
  json(res, 200, { version, reviews: ['An extremely entertaining play by Shakespeare.'], stars, color: version === 'v2' ? 'black' : 'red' }, h);
});
