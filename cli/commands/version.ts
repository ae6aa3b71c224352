import { parseFlags } from '../args.ts';
import { meshletVersion } from '../version.ts';

const HELP = `Usage: meshlet version [--short]

Prints the meshlet client version and the Node.js runtime it runs on.

Flags:
  --short   print only the version number
  -h, --help

Example:
  meshlet version --short
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { short: { type: 'boolean' } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.short === true) process.stdout.write(`${meshletVersion}\n`);
  else process.stdout.write(`client: meshlet ${meshletVersion} (node ${process.version}, ${process.platform}/${process.arch})\n`);
  return 0;
}
