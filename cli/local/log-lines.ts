/** Renders pino JSON log lines for a terminal: `LEVEL message [CODE]`; other text as is. */
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export function humanLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const o = JSON.parse(line) as { level?: number; msg?: string; code?: string };
    if (typeof o.msg !== 'string') return line;
    const level = LEVEL_NAMES[o.level ?? 30] ?? 'INFO';
    return `${level} ${o.msg}${o.code === undefined ? '' : ` [${o.code}]`}`;
  } catch {
    return line;
  }
}
