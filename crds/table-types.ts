/** Shape of the generated validator tables (crds/generated/tables.ts). */

interface Attrs {
  /** Accepted but not enforced yet: the reason. */
  u?: string;
  /** List values that do not count as unenforced. */
  ux?: string[];
  dep?: boolean;
}
export type TableNode =
  | ({ t: 's'; e?: string[]; f?: 'duration'; z?: boolean; ml?: number } & Attrs)
  | ({ t: 'i'; min: number; max: number } & Attrs)
  | ({ t: 'n'; min?: number; max?: number } & Attrs)
  | ({ t: 'b' } & Attrs)
  | ({ t: 'm'; v: TableNode } & Attrs)
  | ({ t: 'a'; i: TableNode; mi?: number } & Attrs)
  | ({ t: 'o'; ref: string } & Attrs);

export interface TableObject {
  p: Record<string, TableNode>;
  r?: string[];
  o?: string[][];
}
