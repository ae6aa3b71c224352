import { parseFlags } from '../args.ts';
import { formatError, MeshletError } from '../../common/errors.ts';
import { captureOptionsFromFlags, FLAG_OPTIONS } from '../../webhook/iptables/flags.ts';
import { installScript } from '../../webhook/iptables/rules.ts';
import { cleanup, install } from '../../webhook/iptables/apply.ts';

const HELP = `Usage: meshlet init-iptables [flags]

Installs the nat rules that send the pod's TCP traffic through its meshlet proxy (the
meshlet-init container runs this): outbound to --outbound-port, inbound to --inbound-port.
Traffic of the proxy's uid/gid, the proxy's inbound forwards from 127.0.0.6, the proxy's own
ports (15000, 15021, 15090) and the excluded ports and ranges are not captured. Rerunning
rewrites the MESHLET_* chains in place and changes nothing. Needs NET_ADMIN and NET_RAW.

Flags:
  --proxy-uid N                     uid whose traffic bypasses capture (default 1337)
  --proxy-gid N                     gid whose traffic bypasses capture (default 1337)
  --outbound-port N                 outbound capture port (default 15001)
  --inbound-port N                  inbound capture port (default 15006)
  --inbound-ports LIST|*            inbound ports to capture (default *)
  --exclude-inbound-ports LIST      inbound ports never captured
  --exclude-outbound-ports LIST     outbound destination ports never captured
  --include-outbound-ip-ranges CIDRS|*   outbound destinations to capture (default *)
  --exclude-outbound-ip-ranges CIDRS     outbound destinations never captured
  --dry-run                         print the iptables-restore input, change nothing
  --cleanup                         remove the rules and chains
  -h, --help

Examples:
  meshlet init-iptables --dry-run
  meshlet init-iptables --exclude-outbound-ports 5432 --exclude-outbound-ip-ranges 10.96.0.1/32
  meshlet init-iptables --cleanup
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAG_OPTIONS);
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    if (values.cleanup === true) {
      if (values['dry-run'] === true) {
        process.stdout.write('# --cleanup removes the MESHLET_* chains and the jumps into them\n');
        return 0;
      }
      const script = await cleanup();
      process.stdout.write(script === null ? 'no meshlet rules installed\n' : script);
      return 0;
    }
    const opts = captureOptionsFromFlags(values);
    if (values['dry-run'] === true) {
      process.stdout.write(installScript(opts));
      return 0;
    }
    process.stdout.write(await install(opts));
    return 0;
  } catch (err) {
    if (err instanceof MeshletError) {
      process.stderr.write(`meshlet init-iptables: ${formatError(err.code, err.message.split(': ').slice(1).join(': ') || undefined)}\n`);
      return err.code === 'MESHLET_IPTABLES_BAD_FLAG' ? 2 : 3;
    }
    throw err;
  }
}
