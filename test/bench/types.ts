/** What one benchmark stage returns to the runner. */
export interface BenchResult {
  /** Stage name, e.g. `proxy`, `crd-validate`. */
  name: string;
  /** Measured figures, with the unit in the key (e.g. `p99_ms`, `cpu_us_per_req`, `rss_mb`). */
  figures: Record<string, number>;
  /** Ratios against a baseline measured in the same run, e.g. `{ cpu_vs_nginx: 1.4 }`. */
  ratios?: Record<string, number>;
  /** Goals: figure or ratio name → `{ max }` or `{ min }`; the runner prints met / not met. */
  goals?: Record<string, { max?: number; min?: number }>;
  /** Free text about the setup (pinning, counts) printed under the table. */
  notes?: string[];
}
