/** Istio/protobuf duration strings ("1.5s", "100ms", "1m", "2h30m") to whole milliseconds. */

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;

/** Parses a duration; undefined when the text is not one. Rounds up so 1us never becomes 0. */
export function parseDurationMs(text: string): number | undefined {
  if (text === '' || text === '0') return text === '0' ? 0 : undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
    consumed = PART.lastIndex;
  }
  if (consumed !== text.length) return undefined;
  return Math.ceil(total - 1e-9);
}

/** Duration or a fallback when absent/unparseable (validation reports the bad text). */
export function durationMs(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  return parseDurationMs(text) ?? fallback;
}
