// Latency samples and their percentiles. Every value is kept (a few million doubles at most), so
// the percentiles are exact rather than read from histogram buckets.

export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export const EMPTY_DISTRIBUTION: Distribution = { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };

/** A growable list of numbers (milliseconds, usually). */
export class Samples {
  private values: Float64Array;
  private size = 0;

  /** `capacity`: how many are expected, so that the array need not grow while measuring. */
  constructor(capacity = 4096) {
    this.values = new Float64Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = value;
  }

  get count(): number {
    return this.size;
  }

  /** The values so far (a view: valid until the next push). */
  view(): Float64Array {
    return this.values.subarray(0, this.size);
  }

  distribution(): Distribution {
    return distributionOf(this.view());
  }
}

/** Nearest-rank percentiles: p99 is a value that was actually observed. */
export function distributionOf(values: ArrayLike<number>): Distribution {
  if (values.length === 0) return EMPTY_DISTRIBUTION;
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

export function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 && Number.isFinite(numerator) ? numerator / denominator : null;
}
