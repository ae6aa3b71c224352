/** Port and IPv4 CIDR list syntax shared by annotations, template values and init-iptables flags. */
const PORT_LIST = /^\s*(\d{1,5}\s*(,\s*\d{1,5}\s*)*)?$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function splitList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Comma-separated ports 1..65535; empty is an empty list. */
export function isPortList(v: string): boolean {
  return PORT_LIST.test(v) && splitList(v).every((p) => Number(p) >= 1 && Number(p) <= 65535);
}

export function isCidr(v: string): boolean {
  const m = CIDR.exec(v);
  if (m === null) return false;
  return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

export function isCidrList(v: string): boolean {
  return splitList(v).every(isCidr);
}
