// The ridge regression under CreditBot's credit predictions, against answers worked out by hand:
// an exact line, the penalty's pull towards zero, weights, collinear and empty columns, and rows
// with missing values.
import { describe, expect, it } from 'vitest';
import { dot, fitRidge } from '../src/apps/credits/prediction/ridge.ts';

const close = (actual: number[], expected: number[], digits = 6) => {
  expect(actual).toHaveLength(expected.length);
  for (const [i, value] of expected.entries()) expect(actual[i]).toBeCloseTo(value, digits);
};

describe('fitRidge', () => {
  it('recovers an exact line, y = 2 + 3x, when the penalty is negligible', () => {
    const xs = [0, 1, 2, 3, 4];
    const w = fitRidge(
      xs.map((x) => [1, x]),
      xs.map((x) => 2 + 3 * x),
      xs.map(() => 1),
      1e-9,
    );
    close(w, [2, 3]);
    expect(dot(w, [1, 10])).toBeCloseTo(32, 5);
  });

  it('pulls the slope towards zero by the penalty, never the intercept', () => {
    // Centred x: slope = sum(xy) / (sum(x^2) + lambda) = 10 / (10 + 10); the intercept is the mean.
    const xs = [-2, -1, 0, 1, 2];
    const w = fitRidge(
      xs.map((x) => [1, x]),
      xs.map((x) => 5 + x),
      xs.map(() => 1),
      10,
    );
    close(w, [5, 0.5]);
  });

  it('weights rows: a row of weight 3 counts as three copies of it', () => {
    const weighted = fitRidge(
      [
        [1, 0],
        [1, 1],
        [1, 2],
      ],
      [1, 2, 9],
      [1, 1, 3],
      0.5,
    );
    const copied = fitRidge(
      [
        [1, 0],
        [1, 1],
        [1, 2],
        [1, 2],
        [1, 2],
      ],
      [1, 2, 9, 9, 9],
      [1, 1, 1, 1, 1],
      0.5,
    );
    close(weighted, copied, 9);
  });

  it('stays solvable with collinear features (shares that sum to the intercept) and an empty column', () => {
    const rows = [
      [1, 0.2, 0.8, 0],
      [1, 0.5, 0.5, 0],
      [1, 0.9, 0.1, 0],
    ];
    const targets = rows.map((row) => 2 + 5 * (row[1] as number));
    const w = fitRidge(rows, targets, [1, 1, 1], 1e-6);
    expect(w.every(Number.isFinite)).toBe(true);
    // The column that is always zero learns nothing; the fit still follows the data.
    expect(w[3]).toBe(0);
    for (const [i, row] of rows.entries()) expect(dot(w, row)).toBeCloseTo(targets[i] as number, 3);
  });

  it('counts a missing feature or target as 0 and a missing weight as 1', () => {
    const ragged = fitRidge([[1, 1], [1], [1, 3]], [2, 0], [], 0.1);
    const full = fitRidge(
      [
        [1, 1],
        [1, 0],
        [1, 3],
      ],
      [2, 0, 0],
      [1, 1, 1],
      0.1,
    );
    close(ragged, full, 9);
    expect(dot([1, 2, 3], [1])).toBe(1);
  });

  it('has nothing to learn from no rows', () => {
    expect(fitRidge([], [], [], 1)).toEqual([]);
  });
});
