// Printed first by `npm test` and `npm run build` so every log says which Node ran it:
// the project pins Node 24 LTS through the `node` devDependency, not the machine's Node.
const major = Number(process.versions.node.split('.')[0]);
console.log(`meshlet: running on Node ${process.version} (${process.execPath})`);
if (major < 24) {
  console.error('meshlet needs Node >= 24. Run `npm ci` so node_modules/.bin/node (Node 24 LTS) is used by npm scripts.');
  process.exit(1);
}
