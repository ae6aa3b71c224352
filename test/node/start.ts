// By hand: `node test/node/start.ts` brings up the one-node cluster (building binaries and
// images on first use), prints how to use it, and tears everything down on Ctrl-C.
import { ensureImages, PAUSE_IMAGE } from './images.ts';
import { ensureNodeBinaries, startNode } from './node.ts';

const log = (line: string): void => void process.stderr.write(`[meshlet node] ${line}\n`);
const binaries = await ensureNodeBinaries(log);
const images = await ensureImages(binaries.pause, log);
if (process.argv.includes('--images-only')) process.exit(0);
const node = await startNode({ images: [images.pause, images.base, images.meshlet], sandboxImage: PAUSE_IMAGE, log });
process.stdout.write(`export KUBECONFIG=${node.kubeconfigPath}\nkubectl: ${binaries.kubectl}\nhelm: ${binaries.helm}\nlogs: ${node.dir}/logs\nCtrl-C stops the node.\n`);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void node.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
