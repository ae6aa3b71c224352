/** Character classes of RFC 9110/9112, as lookup tables (one array read per byte). */

/** tchar: `!#$%&'*+-.^_\`|~`, digits, letters. */
export const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

/** field-vchar, SP and HTAB (obs-text included); every other control byte is refused. */
export const FIELD_VALUE = new Uint8Array(256);
FIELD_VALUE[9] = 1;
for (let c = 32; c <= 126; c++) FIELD_VALUE[c] = 1;
for (let c = 128; c <= 255; c++) FIELD_VALUE[c] = 1;

/** request-target bytes: visible ASCII only (raw non-ASCII must be percent-encoded, as llhttp requires). */
export const TARGET = new Uint8Array(256);
for (let c = 33; c <= 126; c++) TARGET[c] = 1;

export function isToken(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (TOKEN[s.charCodeAt(i)] !== 1) return false;
  return true;
}

const UNSAFE = /[^\t\x20-\x7e\x80-\xff]/;

/** Whether a value holds a byte that would break a head we write (CR, LF, NUL and other controls). */
export function unsafeValue(v: string): boolean {
  return UNSAFE.test(v);
}
