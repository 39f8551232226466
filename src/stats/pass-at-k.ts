function checkCounts(fn: string, n: number, c: number, k: number): void {
  for (const [name, v] of [['n', n], ['c', c], ['k', k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${fn}: ${name} must be a non-negative integer, got ${v}`);
  }
  if (c > n) throw new RangeError(`${fn}: c (${c} passes) cannot exceed n (${n} trials)`);
  if (k < 1) throw new RangeError(`${fn}: k must be at least 1, got ${k}`);
  if (k > n) throw new RangeError(`${fn}: k (${k}) cannot exceed n (${n} trials): the estimator needs at least k trials`);
}

/**
 * Unbiased estimator of pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code"):
 * the probability that at least one of k trials drawn without replacement from the n observed ones passed,
 * 1 - C(n-c, k) / C(n, k). Computed as 1 - prod_{i=n-c+1..n} (1 - k/i), which never forms a factorial.
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCounts('passAtK', n, c, k);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/**
 * Unbiased estimator of pass^k (Yao et al. 2024, tau-bench): the probability that all of k trials drawn
 * without replacement from the n observed ones passed, C(c, k) / C(n, k) = prod_{i=0..k-1} (c-i)/(n-i).
 */
export function passHatK(n: number, c: number, k: number): number {
  checkCounts('passHatK', n, c, k);
  if (c < k) return 0;
  let prod = 1;
  for (let i = 0; i < k; i++) prod *= (c - i) / (n - i);
  return prod;
}

