/**
 * A child-process inbound sidecar for tests: gets its certificate from the operator with its
 * token file, applies a snapshot's security section, serves the mTLS front on 127.0.0.1 and
 * forwards to the app. Prints `READY <port> <serial>` when listening; SIGUSR2 rotates the
 * certificate now and prints `ROTATED <serial>`.
 * argv: <operatorUrl> <tokenFile> <rootPemFile> <appPort> <snapshotFile>
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { createCertRequester } from '../../proxy/security/cert-client.ts';
import { ProxySecurity } from '../../proxy/security/runtime.ts';
import { WorkloadCertManager } from '../../proxy/security/workload-cert.ts';
import { inboundHttp, listenWith } from './fixture.ts';

const [operatorUrl = '', tokenFile = '', rootFile = '', appPortText = '', snapshotFile = ''] = process.argv.slice(2);
const appPort = Number(appPortText);
const certs = new WorkloadCertManager({
  request: createCertRequester({ operatorUrl, tokenFile, caPem: readFileSync(rootFile, 'utf8'), operatorIdentity: 'spiffe://cluster.local/ns/meshlet-system/sa/meshlet-operator' }),
});
const holder: { http?: ReturnType<typeof inboundHttp> } = {};
const sec = new ProxySecurity({
  certs, trustDomain: 'cluster.local',
  onMtls: (s: TLSSocket) => holder.http?.emit('connection', s),
  onPlaintext: (s: Socket) => holder.http?.emit('connection', s),
});
await sec.start();
sec.applySnapshot(JSON.parse(readFileSync(snapshotFile, 'utf8')) as ProxySnapshot);
holder.http = inboundHttp(certs.current()?.identity ?? '', appPort, () => sec.authz);
const listener = await listenWith((s) => sec.handleInbound(s, appPort));
process.on('SIGUSR2', () => {
  void certs.rotateNow().then((c) => process.stdout.write(`ROTATED ${c.serial}\n`));
});
process.on('SIGTERM', () => {
  sec.stop();
  void listener.close().then(() => process.exit(0));
});
process.stdout.write(`READY ${listener.port} ${certs.current()?.serial ?? ''}\n`);
