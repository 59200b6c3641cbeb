// Random choices of workloads over a stream of numbers in [0, 1) (contracts/random.ts gives
// each worker its own): an integer below n, and a zipfian picker.

/** An integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/**
 * Picks indices in [0, n) with P(i) proportional to 1 / (i + 1)^skew: index 0 is the hottest.
 * The cumulative weights are computed once; each pick is a binary search.
 */
export function zipfian(n: number, random: () => number, skew = 1): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** skew;
    cdf[i] = total;
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}
