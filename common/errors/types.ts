/** One entry of the error catalog: a stable code, what went wrong, and what to do about it. */
export interface ErrorEntry {
  /** Stable code `MESHLET_<AREA>_<WHAT>`; never renamed once released (users grep for it). */
  readonly code: string;
  /**
   * The HTTP status of an answer that carries this code (a proxy local reply, an API error):
   * servers take it from here, never from the code's name. Codes that never travel in an
   * HTTP answer still say what one would be (input errors 4xx, the rest 5xx).
   */
  readonly status: number;
  /** One line saying what went wrong. */
  readonly message: string;
  /** One line saying what the user can do about it. */
  readonly hint: string;
}
