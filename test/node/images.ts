// The images the one-node cluster runs, all made on this machine (nothing can be pulled):
//  - base: a Debian 12 minimal root filesystem (debootstrap --variant=minbase) plus the
//    project's pinned Node 24 binary and npm, tagged as the Dockerfile's default NODE_IMAGE
//    (docker.io/library/node:24-bookworm-slim); the demo apps run on it too;
//  - meshlet: the project's own Dockerfile, built by buildah (daemonless) over that base;
//  - pause: the pod sandbox, one static Go binary.
// Each is written as a docker-archive under ~/.cache/meshlet/images/ named by the hash of its
// inputs, so a second run (or CI on a warm machine) reuses it. buildah keeps its storage in a
// temp dir and runs in a private mount namespace: no mount and no container state outlives it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError, formatDuration, run } from '../cluster/binaries.ts';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASE_IMAGE = 'docker.io/library/node:24-bookworm-slim';
export const PAUSE_IMAGE = 'meshlet.local/pause:e2e';
export const MESHLET_REPOSITORY = 'meshlet.local/meshlet';
export const MESHLET_TAG = 'e2e';
const DEBIAN_SUITE = 'bookworm';
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

export interface Images {
  base: string;
  meshlet: string;
  pause: string;
}

export function imageCacheDir(): string {
  const fromEnv = process.env.MESHLET_IMAGE_CACHE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'meshlet', 'images');
}

function hashFiles(hash: ReturnType<typeof createHash>, root: string, paths: string[]): void {
  const walk = (p: string): void => {
    const abs = join(root, p);
    if (!existsSync(abs)) return;
    if (statSync(abs).isDirectory()) {
      for (const e of readdirSync(abs).sort()) if (e !== 'node_modules' && e !== 'dist') walk(join(p, e));
      return;
    }
    hash.update(`${relative(root, abs)}\0`);
    hash.update(readFileSync(abs));
  };
  for (const p of paths) walk(p);
}

function nodeBinary(): string {
  return join(REPO, 'node_modules', 'node', 'bin', 'node');
}

/** npm for the base image: the one that came with the bootstrap Node on this machine. */
function npmDir(): string {
  for (const d of ['/usr/lib/node_modules/npm', '/usr/local/lib/node_modules/npm']) if (existsSync(join(d, 'package.json'))) return d;
  throw new HarnessError('npm (for the base image) not found in /usr/lib/node_modules or /usr/local/lib/node_modules');
}

function key(parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

/** Runs a shell script in a private mount namespace; throws with its output tail on failure. */
async function script(what: string, body: string, log: (line: string) => void, timeoutMs = 1_800_000): Promise<string> {
  const started = Date.now();
  const timer = setInterval(() => log(`still ${what}, ${formatDuration(Date.now() - started)} elapsed`), 30_000);
  try {
    const r = await run('unshare', ['--mount', '--propagation', 'private', '--', 'bash', '-c', `set -euo pipefail\n${body}`], { timeoutMs });
    if (r.code !== 0) throw new HarnessError(`${what} failed (${r.signal ?? `exit ${r.code}`}):\n${(r.stderr + r.stdout).split('\n').slice(-40).join('\n')}`);
    log(`${what}: done in ${formatDuration(Date.now() - started)}`);
    return r.stdout;
  } finally {
    clearInterval(timer);
  }
}

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function cached(name: string, k: string, log: (line: string) => void, build: (out: string, work: string) => Promise<void>): Promise<string> {
  const dir = imageCacheDir();
  const file = join(dir, `${name}-${k}.tar`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), `meshlet-image-${name}-`));
  const tmp = join(dir, `.${name}-${k}.${process.pid}.tmp`);
  try {
    log(`building image ${name} (${k}) into ${dir}`);
    await build(tmp, work);
    renameSync(tmp, file);
    // Older versions of the same image are dead weight.
    for (const f of readdirSync(dir)) if (f.startsWith(`${name}-`) && f.endsWith('.tar') && f !== `${name}-${k}.tar`) rmSync(join(dir, f), { force: true });
    return file;
  } finally {
    rmSync(tmp, { force: true });
    rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  }
}

// Expanded unquoted as $B in the scripts: the temp paths (mkdtemp under tmpdir) have no spaces or quotes.
const buildah = (work: string): string => {
  if (/[\s'"$\\]/.test(work)) throw new HarnessError(`the temp dir ${work} must not contain spaces or quotes`);
  return `buildah --root ${join(work, 'storage')} --runroot ${join(work, 'run')} --storage-driver vfs`;
};

export async function baseImage(log: (line: string) => void): Promise<string> {
  const npm = npmDir();
  const npmVersion = (JSON.parse(readFileSync(join(npm, 'package.json'), 'utf8')) as { version: string }).version;
  const nodeHash = createHash('sha256').update(readFileSync(nodeBinary())).digest('hex');
  const k = key(['base-1', DEBIAN_SUITE, nodeHash, npmVersion, BASE_IMAGE]);
  return cached('base', k, log, async (out, work) => {
    const R = join(work, 'rootfs');
    await script(
      'debootstrap + Node 24 base image',
      `
debootstrap --variant=minbase ${DEBIAN_SUITE} ${sh(R)} ${DEBIAN_MIRROR} > ${sh(join(work, 'debootstrap.log'))} 2>&1 || { tail -20 ${sh(join(work, 'debootstrap.log'))}; exit 1; }
install -m 0755 ${sh(nodeBinary())} ${sh(R)}/usr/local/bin/node
mkdir -p ${sh(R)}/usr/local/lib/node_modules
cp -a ${sh(npm)} ${sh(R)}/usr/local/lib/node_modules/npm
ln -s ../lib/node_modules/npm/bin/npm-cli.js ${sh(R)}/usr/local/bin/npm
ln -s ../lib/node_modules/npm/bin/npx-cli.js ${sh(R)}/usr/local/bin/npx
rm -rf ${sh(R)}/var/cache/apt/archives/*.deb ${sh(R)}/var/lib/apt/lists/* ${sh(R)}/var/log/*.log
tar -C ${sh(R)} --numeric-owner -cf ${sh(join(work, 'rootfs.tar'))} .
rm -rf ${sh(R)}
B="${buildah(work)}"
c=$($B from scratch)
$B add --quiet "$c" ${sh(join(work, 'rootfs.tar'))} / >/dev/null
$B config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node --label meshlet.io/made-by=test/node "$c"
$B commit --quiet "$c" ${BASE_IMAGE} >/dev/null
$B push --quiet ${BASE_IMAGE} docker-archive:${sh(out)}:${BASE_IMAGE}
`,
      log,
    );
  });
}

export async function pauseImage(pauseBinary: string, log: (line: string) => void): Promise<string> {
  const k = key(['pause-1', readFileSync(pauseBinary), PAUSE_IMAGE]);
  return cached('pause', k, log, async (out, work) => {
    await script(
      'pause image',
      `
B="${buildah(work)}"
c=$($B from scratch)
$B copy --quiet "$c" ${sh(pauseBinary)} /pause >/dev/null
$B config --entrypoint '["/pause"]' "$c"
$B commit --quiet "$c" ${PAUSE_IMAGE} >/dev/null
$B push --quiet ${PAUSE_IMAGE} docker-archive:${sh(out)}:${PAUSE_IMAGE}
`,
      log,
    );
  });
}

/** What the Dockerfile copies (see .dockerignore): a change to any of these rebuilds the image. */
const CONTEXT = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-dist.ts', 'bin', 'cli', 'common', 'crds', 'operator', 'proxy', 'webhook'];

export async function meshletImage(base: string, log: (line: string) => void): Promise<string> {
  const h = createHash('sha256');
  h.update(`meshlet-1\0${base}\0`);
  hashFiles(h, REPO, CONTEXT);
  const k = h.digest('hex').slice(0, 16);
  const ref = `${MESHLET_REPOSITORY}:${MESHLET_TAG}`;
  return cached('meshlet', k, log, async (out, work) => {
    await script(
      'meshlet image from the Dockerfile (buildah)',
      `
B="${buildah(work)}"
${caMounts(work)}
id=$($B pull --quiet docker-archive:${sh(base)})
$B tag "$id" ${BASE_IMAGE}
# --network host: the build's npm ci and apt-get use the host's network as is, and buildah
# creates no bridge. --pull=never: the base exists only here.
$B bud --quiet --isolation chroot --network host --pull=never --layers=false $CA_MOUNTS -f ${sh(join(REPO, 'Dockerfile'))} -t ${ref} ${sh(REPO)} > ${sh(join(work, 'bud.log'))} 2>&1 || { tail -40 ${sh(join(work, 'bud.log'))}; exit 1; }
$B push --quiet ${ref} docker-archive:${sh(out)}:${ref}
`,
      log,
    );
  });
}

/**
 * The build's npm must trust what this host trusts (a machine behind a TLS-inspecting egress
 * proxy has its CA only in the host bundle): the host bundle and an npmrc pointing at it are
 * mounted into the build's RUN steps only, so the image itself is unchanged.
 */
function caMounts(work: string): string {
  const bundle = '/etc/ssl/certs/ca-certificates.crt';
  if (!existsSync(bundle)) return 'CA_MOUNTS=""';
  const npmrc = join(work, 'npmrc');
  writeFileSync(npmrc, 'cafile=/etc/meshlet-build-ca.crt\n');
  return `CA_MOUNTS="-v ${bundle}:/etc/meshlet-build-ca.crt:ro -v ${npmrc}:/usr/local/etc/npmrc:ro"`;
}

/** All three images, from the cache when their inputs did not change. */
export async function ensureImages(pauseBinary: string, log: (line: string) => void): Promise<Images> {
  const started = Date.now();
  const [base, pause] = await Promise.all([baseImage(log), pauseImage(pauseBinary, log)]);
  const meshlet = await meshletImage(base, log);
  log(`images ready in ${formatDuration(Date.now() - started)}`);
  writeFileSync(join(imageCacheDir(), '.last-used'), `${new Date().toISOString()}\n`);
  return { base, meshlet, pause };
}
