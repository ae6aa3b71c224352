/**
 * An undici `connect` function that dials mesh mTLS to one expected identity, for the
 * upstream pools (`new Pool('http://<ip>:<port>', { connect: mtlsConnector(client, id) })`:
 * the origin stays http:// because the TLS is the mesh's, not the app's).
 */
import type { buildConnector } from 'undici';
import type { MtlsClient } from './tls-contexts.ts';

export function mtlsConnector(client: MtlsClient, identity: string | undefined, opts: { alpn?: string[]; localAddress?: string } = {}): buildConnector.connector {
  return (o, cb) => {
    let s;
    try {
      s = client.connect({
        host: o.hostname, port: Number(o.port), identity,
        ...(opts.alpn === undefined ? {} : { alpn: opts.alpn }),
        ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
      });
    } catch (err) {
      cb(err as Error, null);
      return;
    }
    const onErr = (e: Error): void => cb(e, null);
    s.once('error', onErr);
    s.once('secureConnect', () => {
      s.off('error', onErr);
      cb(null, s);
    });
  };
}
