/** Parses the Prometheus text format, keeping only the metric families asked for. Pure. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

export function parsePromText(text: string, names: ReadonlySet<string>): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const name = brace !== -1 && brace < space ? line.slice(0, brace) : line.slice(0, space);
    if (!names.has(name)) continue;
    const labels: Record<string, string> = {};
    let rest = line.slice(name.length);
    if (rest.startsWith('{')) {
      let i = 1;
      while (i < rest.length && rest[i] !== '}') {
        const eq = rest.indexOf('=', i);
        const key = rest.slice(i, eq).replace(/^,/, '').trim();
        let j = eq + 2;
        let val = '';
        while (j < rest.length && rest[j] !== '"') {
          if (rest[j] === '\\') {
            val += rest.slice(j, j + 2);
            j += 2;
          } else val += rest[j++];
        }
        labels[key] = unescape(val);
        i = j + 1;
        if (rest[i] === ',') i++;
      }
      rest = rest.slice(i + 1);
    }
    const value = Number(rest.trim().split(' ')[0]);
    if (!Number.isNaN(value)) out.push({ name, labels, value });
  }
  return out;
}
