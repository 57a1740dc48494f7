/** The shape every benchmark reports: throughput and latency percentiles of one measured operation. */

export interface BenchResult {
  name: string;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  note?: string;
}
