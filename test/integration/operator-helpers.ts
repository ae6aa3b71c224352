/** Shared by the operator-*.test.ts files: a CSR, HTTPS calls to 15012 trusting the mesh root, certificate SANs. */
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'undici';
import { generateP256, exportPrivateKeyPem, SIGN_ECDSA_SHA256 } from '../../common/security/keys.ts';
import { x509 } from '../../common/security/x509.ts';

export async function newCsr(): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'O=test', keys, signingAlgorithm: SIGN_ECDSA_SHA256 });
  return { csrPem: csr.toString('pem'), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTPS call that trusts only `caPem` (the mesh root); optional client certificate. */
export async function call(url: string, caPem: string, opts: { method?: 'GET' | 'POST'; token?: string; body?: unknown; client?: { certPem: string; keyPem: string } } = {}): Promise<Answer> {
  const agent = new Agent({ connect: { ca: caPem, ...(opts.client === undefined ? {} : { cert: opts.client.certPem, key: opts.client.keyPem }) } });
  try {
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const r = await request(url, { method: opts.method ?? 'GET', headers, dispatcher: agent, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }), headersTimeout: 15_000, bodyTimeout: 15_000 });
    return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
  } finally {
    await agent.close();
  }
}

/** The URI SANs of the first certificate of a PEM chain. */
export function uriSansOf(chainPem: string): string[] {
  const first = new X509Certificate(chainPem);
  return (first.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
}

/** Every certificate of a PEM bundle. */
export function certsOf(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c));
}

/** Value of an unlabelled (or exactly labelled) sample in Prometheus text, or undefined. */
export function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
