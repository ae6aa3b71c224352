/** nginx and haproxy as reference proxies (Debian packages), with upstream keep-alive. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids as childPidsOf } from './procstat.ts';

export interface Running {
  proc: ChildProcess;
  /** PIDs whose CPU time counts (master + workers). */
  pids: () => number[];
  stop: () => Promise<void>;
}

function startPinned(cpu: number, cmd: string, args: string[]): ChildProcess {
  return spawn('taskset', ['-c', String(cpu), cmd, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}

/** PEM files of one side of a mutual-TLS hop. */
export interface TlsFiles {
  cert: string;
  key: string;
  /** The CA that signed the peer's certificate. */
  root: string;
}

/**
 * nginx with one worker: a static `200 ok` upstream when `upstream` is undefined, else a
 * proxy_pass. `tls.server`: the listener requires and verifies a client certificate;
 * `tls.client`: the upstream is reached over TLS presenting that certificate (kept alive).
 */
export function startNginx(cpu: number, listen: string, upstream?: string, tls: { server?: TlsFiles; client?: TlsFiles } = {}): Running {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-bench-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const s = tls.server;
  const listenTls = s === undefined ? '' : ` ssl;
       ssl_certificate ${s.cert}; ssl_certificate_key ${s.key}; ssl_client_certificate ${s.root}; ssl_verify_client on; ssl_protocols TLSv1.3`;
  const c = tls.client;
  // nginx checks a server certificate's DNS name, and mesh certificates carry only a SPIFFE URI,
  // so the client side does not verify the server (the server side verifies the client).
  const upstreamTls = c === undefined ? '' : `proxy_ssl_certificate ${c.cert}; proxy_ssl_certificate_key ${c.key}; proxy_ssl_protocols TLSv1.3; proxy_ssl_session_reuse on; proxy_ssl_verify off;`;
  const body = upstream === undefined
    ? `server { listen ${listen}${listenTls}; access_log off; location / { return 200 "ok\\n"; } }`
    : `upstream up { server ${upstream}; keepalive 64; }
       server { listen ${listen}${listenTls}; access_log off; location / { proxy_pass ${c === undefined ? 'http' : 'https'}://up; proxy_http_version 1.1; proxy_set_header Connection ""; ${upstreamTls} } }`;
  writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process on; worker_processes 1; pid ${dir}/nginx.pid; error_log stderr error;
events { worker_connections 4096; }
http { client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp; keepalive_requests 1000000; ${body} }
`);
  const proc = startPinned(cpu, 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  return { proc, pids: () => [proc.pid ?? 0, ...childPidsOf(proc.pid ?? 0)], stop: () => stopProc(proc) };
}

export function startHaproxy(cpu: number, listen: string, upstream: string): Running {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-bench-haproxy-'));
  writeFileSync(join(dir, 'haproxy.cfg'), `global
  nbthread 1
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend f
  bind ${listen}
  default_backend b
backend b
  http-reuse always
  server s1 ${upstream}
`);
  const proc = startPinned(cpu, 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')]);
  return { proc, pids: () => [proc.pid ?? 0], stop: () => stopProc(proc) };
}
