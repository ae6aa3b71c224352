/** Trailer fields of a chunked body: parsed and checked like header fields. */
import { FIELD_VALUE, isToken } from './chars.ts';
import type { Headers } from './head-parse.ts';

/** Field lines joined by CRLF (no final CRLF); an error string when one is malformed. */
export function parseTrailerLines(text: string): Headers | string {
  const out: Headers = {};
  for (const line of text.split('\r\n')) {
    if (line.indexOf('\n') !== -1 || line.indexOf('\r') !== -1) return 'bare CR or LF in trailers';
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) return 'obs-fold in trailers';
    const colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line, 0, colon)) return 'invalid trailer name';
    const value = line.slice(colon + 1).trim();
    for (let j = 0; j < value.length; j++) if (FIELD_VALUE[value.charCodeAt(j)] !== 1) return 'invalid trailer value';
    const name = line.slice(0, colon).toLowerCase();
    const cur = out[name];
    out[name] = cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : [cur, value];
  }
  return out;
}
