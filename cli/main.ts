/** `meshlet <command>`: dispatches to a subcommand module and turns errors into exit codes. */
import { commands } from './commands/registry.ts';
import { meshletVersion } from './version.ts';

/** Exit codes: 0 ok, 1 the command found problems (e.g. invalid objects), 2 usage error, 3 runtime failure. */
export const EXIT = { ok: 0, problems: 1, usage: 2, failure: 3 } as const;

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `meshlet ${meshletVersion}: a small service mesh for Kubernetes that speaks Istio's API

Usage: meshlet <command> [flags]

Commands:
${lines.join('\n')}

Run 'meshlet <command> --help' for a command's flags and examples.
Exit codes: 0 ok, 1 problems found, 2 usage error, 3 runtime failure.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') return main(['version', ...rest]);
  const cmd = commands[name];
  if (cmd === undefined) {
    process.stderr.write(`meshlet: unknown command "${name}"\n\n${help()}`);
    return EXIT.usage;
  }
  try {
    const mod = await cmd.load();
    return await mod.run(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      process.stderr.write(`meshlet ${name}: ${e.message}\nRun 'meshlet ${name} --help' for usage.\n`);
      return EXIT.usage;
    }
    process.stderr.write(`meshlet ${name}: ${e.message}${e.code?.startsWith('MESHLET_') ? ` [${e.code}]` : ''}\n`);
    return EXIT.failure;
  }
}
