/** A VirtualService with n distinct HTTP routes (header + uri matches, weights, retries), for load tests. */
/** `salt` makes every regex new, so a benchmark can measure validation without the regex cache. */
export function bigVirtualService(n: number, salt = ''): Record<string, unknown> {
  const http = Array.from({ length: n }, (_, i) => ({
    name: `r${i}`,
    match: [{ uri: { prefix: `/api/${i}/` }, headers: { 'x-tenant': { regex: `^tenant-${salt}${i}-[a-z]+$` } } }],
    route: [
      { destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } }, weight: 90 },
      { destination: { host: 'reviews', subset: 'v2', port: { number: 9080 } }, weight: 10 },
    ],
    timeout: '2s',
    retries: { attempts: 2, perTryTimeout: '500ms', retryOn: 'connect-failure,refused-stream,503' },
  }));
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'big', namespace: 'default' }, spec: { hosts: ['reviews'], http } };
}
