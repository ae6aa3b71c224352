/** Demo ratings: answers stars; `?fail=1` (or FAIL_RATE) makes it return 503 to show retries. */
import { json, serve } from './lib.ts';

const failRate = Number(process.env.FAIL_RATE ?? 0);

serve('ratings', (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.searchParams.get('fail') === '1' || Math.random() < failRate) return json(res, 503, { error: 'ratings overloaded' });
  json(res, 200, { stars: 4, method: req.method });
});
