// Weighted ridge regression by its normal equations, (X'WX + lambda I) w = X'Wy, solved with a
// Cholesky factorisation. A few dozen features and tens of thousands of rows: the p x p system is
// tiny, and the penalty keeps it solvable when features are collinear (mode shares sum to one, as
// the intercept does). The intercept (column 0) is not penalised.

/** A p x p matrix, row-major, and a p-vector: every index below p is set. */
type Matrix = Float64Array[];
const at = (v: Float64Array, i: number) => v[i] as number;
const rowOf = (m: Matrix, i: number) => m[i] as Float64Array;

/**
 * Rows shorter than the first count their missing features as 0; a missing target as 0 and a
 * missing weight as 1.
 */
export function fitRidge(rows: number[][], targets: number[], weights: number[], lambda: number): number[] {
  const p = rows[0]?.length ?? 0;
  const a: Matrix = Array.from({ length: p }, () => new Float64Array(p));
  const b = new Float64Array(p);
  rows.forEach((x, n) => {
    const w = weights[n] ?? 1;
    const y = targets[n] ?? 0;
    for (let i = 0; i < p; i++) {
      const wx = w * (x[i] ?? 0);
      b[i] = at(b, i) + wx * y;
      const row = rowOf(a, i);
      for (let j = 0; j <= i; j++) row[j] = at(row, j) + wx * (x[j] ?? 0);
    }
  });
  for (let i = 0; i < p; i++) {
    const row = rowOf(a, i);
    if (i > 0) row[i] = at(row, i) + lambda;
    for (let j = 0; j < i; j++) rowOf(a, j)[i] = at(row, j);
  }
  return solveCholesky(a, b);
}

function solveCholesky(a: Matrix, b: Float64Array): number[] {
  const p = b.length;
  const l: Matrix = Array.from({ length: p }, () => new Float64Array(p));
  for (let i = 0; i < p; i++) {
    const li = rowOf(l, i);
    for (let j = 0; j <= i; j++) {
      const lj = rowOf(l, j);
      let sum = at(rowOf(a, i), j);
      for (let k = 0; k < j; k++) sum -= at(li, k) * at(lj, k);
      // A column with no information (all zeros, unpenalised) would give a zero pivot: made tiny-positive.
      li[j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / at(lj, j);
    }
  }
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let sum = at(b, i);
    for (let k = 0; k < i; k++) sum -= at(rowOf(l, i), k) * at(z, k);
    z[i] = sum / at(rowOf(l, i), i);
  }
  const w = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let sum = at(z, i);
    for (let k = i + 1; k < p; k++) sum -= at(rowOf(l, k), i) * at(w, k);
    w[i] = sum / at(rowOf(l, i), i);
  }
  return [...w];
}

export const dot = (w: number[], x: number[]) => w.reduce((sum, wi, i) => sum + wi * (x[i] ?? 0), 0);
