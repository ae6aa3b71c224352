import type { ErrorEntry } from './types.ts';

/** Codes shared by every part: configuration, snapshots and the CLI. */
export const coreErrors = [
  { code: 'MESHLET_CORE_INTERNAL', status: 500, message: 'internal error', hint: 'This is a bug in meshlet; report it with the log line that carries this code.' },
  { code: 'MESHLET_CORE_BAD_FLAG', status: 400, message: 'unknown or invalid command-line flag', hint: 'Run the command with --help to see the flags it takes.' },
  { code: 'MESHLET_SNAPSHOT_INVALID', status: 400, message: 'proxy snapshot failed validation', hint: 'The operator produced a snapshot the proxy refuses; the proxy keeps its last good config. See the path in the error.' },
  { code: 'MESHLET_SNAPSHOT_PARSE', status: 400, message: 'proxy snapshot is not valid JSON', hint: 'Check the --config-file contents or the operator version.' },
] as const satisfies readonly ErrorEntry[];
