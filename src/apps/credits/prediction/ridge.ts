// Weighted ridge regression by its normal equations, (X'WX + lambda I) w = X'Wy, solved with a
// Cholesky factorisation. A few dozen features and tens of thousands of rows: the p x p system is
// tiny, and the penalty keeps it solvable when features are collinear (mode shares sum to one, as
// the intercept does). The intercept (column 0) is not penalised.
export function fitRidge(rows: number[][], targets: number[], weights: number[], lambda: number): number[] {
  const p = rows[0]?.length ?? 0;
  const a = Array.from({ length: p }, () => new Float64Array(p));
  const b = new Float64Array(p);
  rows.forEach((x, n) => {
    const w = weights[n] ?? 1;
    const y = targets[n] ?? 0;
    for (let i = 0; i < p; i++) {
      const wx = w * (x[i] ?? 0);
      b[i] = (b[i] ?? 0) + wx * y;
      const row = a[i] as Float64Array;
      for (let j = 0; j <= i; j++) row[j] = (row[j] ?? 0) + wx * (x[j] ?? 0);
    }
  });
  for (let i = 0; i < p; i++) {
    const row = a[i] as Float64Array;
    if (i > 0) row[i] = (row[i] ?? 0) + lambda;
    for (let j = 0; j < i; j++) (a[j] as Float64Array)[i] = row[j] ?? 0;
  }
  return solveCholesky(a, b);
}

function solveCholesky(a: Float64Array[], b: Float64Array): number[] {
  const p = b.length;
  const l = Array.from({ length: p }, () => new Float64Array(p));
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = (a[i] as Float64Array)[j] ?? 0;
      for (let k = 0; k < j; k++) sum -= ((l[i] as Float64Array)[k] ?? 0) * ((l[j] as Float64Array)[k] ?? 0);
      // A column with no information (all zeros, unpenalised) would give a zero pivot: made tiny-positive.
      (l[i] as Float64Array)[j] =
        i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / ((l[j] as Float64Array)[j] ?? 1);
    }
  }
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let sum = b[i] ?? 0;
    for (let k = 0; k < i; k++) sum -= ((l[i] as Float64Array)[k] ?? 0) * (z[k] ?? 0);
    z[i] = sum / ((l[i] as Float64Array)[i] ?? 1);
  }
  const w = new Array<number>(p).fill(0);
  for (let i = p - 1; i >= 0; i--) {
    let sum = z[i] ?? 0;
    for (let k = i + 1; k < p; k++) sum -= ((l[k] as Float64Array)[i] ?? 0) * (w[k] ?? 0);
    w[i] = sum / ((l[i] as Float64Array)[i] ?? 1);
  }
  return w;
}

export const dot = (w: number[], x: number[]) => w.reduce((sum, wi, i) => sum + wi * (x[i] ?? 0), 0);
