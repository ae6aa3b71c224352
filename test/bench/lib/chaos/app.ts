/**
 * The app behind the server sidecar (run as its own process: `node app.ts <host> <port>`):
 * answers 200 to everything and prints one line `METHOD PATH` per request it receives, so
 * the driver can count requests that policy should have stopped but reached the app.
 */
import { createServer } from 'node:http';

const [host = '127.0.0.1', port = '9080'] = process.argv.slice(2);
createServer((req, res) => {
  process.stdout.write(`${req.method ?? '?'} ${req.url ?? '?'}\n`);
  req.resume();
  req.on('end', () => res.end('ok'));
}).listen(Number(port), host, () => process.stdout.write('ready\n'));
