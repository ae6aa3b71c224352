/**
 * A scripted control plane speaking DESIGN.md §3 over HTTPS: `GET /v1/config?proxy&version`
 * answers the snapshot at once when the version differs, else holds and answers 304.
 * It records every request's query (ack/nack/error) and can be killed and restarted on
 * the same address and port.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';

export interface SeenRequest {
  proxy: string | null;
  version: string | null;
  ack: string | null;
  nack: string | null;
  error: string | null;
}

export class ControlPlane {
  snapshot: { version: string } & Record<string, unknown>;
  readonly seen: SeenRequest[] = [];
  readonly address: string;
  port = 0;
  ca = '';
  private key = '';
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private waiters: (() => void)[] = [];
  private readonly holdMs: number;

  constructor(address: string, snapshot: { version: string } & Record<string, unknown>, holdMs = 30_000) {
    this.address = address;
    this.snapshot = snapshot;
    this.holdMs = holdMs;
  }

  get url(): string {
    return `https://${this.address}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.ca === '') {
      const pems = await generate([{ name: 'commonName', value: 'meshlet-test-operator' }], { keySize: 2048, extensions: [{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 7, ip: this.address }] }] } as never);
      this.ca = pems.cert;
      this.key = pems.private;
    }
    const server = createServer({ cert: this.ca, key: this.key }, (req, res) => {
      const u = new URL(req.url ?? '/', 'https://x');
      const q = (k: string) => u.searchParams.get(k);
      this.seen.push({ proxy: q('proxy'), version: q('version'), ack: q('ack'), nack: q('nack'), error: q('error') });
      for (const w of this.waiters.splice(0)) w();
      const answer = (): void => {
        if (res.destroyed) return;
        if (q('version') !== this.snapshot.version) {
          const body = JSON.stringify(this.snapshot);
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        } else {
          res.writeHead(304);
          res.end();
        }
      };
      if (q('version') !== this.snapshot.version) return answer();
      const timer = setTimeout(answer, this.holdMs);
      this.onChange.push(() => {
        clearTimeout(timer);
        answer();
      });
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(this.port, this.address, () => r()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private onChange: (() => void)[] = [];

  /** Pushes a new snapshot to held requests. */
  push(snapshot: { version: string } & Record<string, unknown>): void {
    this.snapshot = snapshot;
    for (const f of this.onChange.splice(0)) f();
  }

  /** Closes the server and resets every connection (like a killed operator). */
  async kill(): Promise<void> {
    this.onChange = [];
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Waits (bounded) until a request satisfying `pred` was seen. */
  async waitFor(pred: (r: SeenRequest) => boolean, timeoutMs = 20_000): Promise<SeenRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.seen.find(pred);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`control plane: no matching request in ${timeoutMs} ms; seen ${JSON.stringify(this.seen.slice(-5))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200).unref();
      });
    }
  }
}
