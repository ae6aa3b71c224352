/** StringMatch compiled to a predicate once per snapshot; regexes are RE2 (linear time), full match. */
import { re2 } from '../../common/re2.ts';
import type { StringMatch } from '../../common/snapshot.ts';

export type Matcher = (value: string) => boolean;

/** Compiles a match; `ignoreCase` lower-cases exact/prefix and sets RE2's case-insensitive flag. */
export function compileStringMatch(m: StringMatch, ignoreCase = false): Matcher {
  switch (m.type) {
    case 'exact': {
      if (!ignoreCase) {
        const v = m.value;
        return (s) => s === v;
      }
      const v = m.value.toLowerCase();
      return (s) => s.length === v.length && s.toLowerCase() === v;
    }
    case 'prefix': {
      if (!ignoreCase) {
        const v = m.value;
        return (s) => s.startsWith(v);
      }
      const v = m.value.toLowerCase();
      return (s) => s.length >= v.length && s.slice(0, v.length).toLowerCase() === v;
    }
    case 'regex': {
      const re = re2().compile(m.value, ignoreCase ? re2().CASE_INSENSITIVE : 0);
      return (s) => re.matches(s);
    }
  }
}
