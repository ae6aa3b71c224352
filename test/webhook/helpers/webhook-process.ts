/** Runs `meshlet webhook` as a real process against a test cluster; stopped by the test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { MESHLET_BIN } from './netns.ts';

export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

export class WebhookProcess {
  child: ChildProcess | undefined;
  output = '';

  async start(kubeconfig: string, port: number, metricsPort: number, extra: string[] = []): Promise<void> {
    const child = spawn(process.execPath, [MESHLET_BIN, 'webhook', '--kubeconfig', kubeconfig, '--host', '127.0.0.1', '--port', String(port),
      '--cert-host', '127.0.0.1', '--metrics-port', String(metricsPort), '--log-level', 'warn', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.on('data', (d: Buffer) => { this.output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { this.output += d.toString(); });
    const deadline = Date.now() + 30_000;
    while (!this.output.includes('meshlet webhook listening on')) {
      if (child.exitCode !== null) throw new Error(`meshlet webhook exited ${child.exitCode}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`meshlet webhook not ready in 30 s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
