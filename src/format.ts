/*
 * How numbers read in every table, comment and report: one wording for each, so a pass rate in the PR comment
 * reads as it does in the README.
 */

/** A fraction as a whole percentage (0.4 -> "40%"); `none` for a missing one. */
export function pct(x: number | null, none = '—'): string {
  return x === null ? none : `${Math.round(x * 100)}%`;
}

/** A difference of rates in whole points: 0.3 -> "30 points". */
export const points = (x: number) => `${(x * 100).toFixed(0)} points`;

/** A signed difference in whole points with a true minus: -0.3 -> "−30", 0 -> "±0". */
export const signedPoints = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x * 100).toFixed(0)}`;

/** A p-value: three decimals, or scientific below 0.001. */
export const pValue = (x: number) => (x < 0.001 ? x.toExponential(1) : x.toFixed(3));

/** A test level: four decimals, or scientific below 0.001. */
export const level = (x: number) => (x < 0.001 ? x.toExponential(1) : x.toFixed(4));
