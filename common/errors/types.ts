/** One entry of the error catalog: a stable code, what went wrong, and what to do about it. */
export interface ErrorEntry {
  /** Stable code `MESHLET_<AREA>_<WHAT>`; never renamed once released (users grep for it). */
  readonly code: string;
  /** One line saying what went wrong. */
  readonly message: string;
  /** One line saying what the user can do about it. */
  readonly hint: string;
}
