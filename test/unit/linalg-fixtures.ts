/**
 * Test-only helpers for the linalg tests, written independently of the code
 * under test: a seeded Gaussian source, random orthonormal columns by
 * Gram-Schmidt, planted matrices `U diag(s) V^T`, small dense products.
 */

/** Seeded standard normals (xorshift32 + Box-Muller). */
export function gaussian(seed: number): () => number {
  let x = seed >>> 0 || 1;
  const uniform = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return (x + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Column-major n x k matrix with orthonormal columns (Gram-Schmidt, twice, of a Gaussian matrix). */
export function orthonormalColumns(n: number, k: number, seed: number): Float64Array[] {
  const g = gaussian(seed);
  const cols: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const c = Float64Array.from({ length: n }, g);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        const d = dot(q, c);
        for (let i = 0; i < n; i++) c[i] -= d * q[i];
      }
    }
    const nrm = Math.sqrt(dot(c, c));
    for (let i = 0; i < n; i++) c[i] /= nrm;
    cols.push(c);
  }
  return cols;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A planted float32 matrix with its exact float64 factors and the rounding it suffered. */
export interface Planted {
  a: Float32Array;
  u: Float64Array[];
  s: number[];
  /** ||float32(A) - A||_F: by Weyl, every singular value of `a` is within this of the planted one. */
  roundingNorm: number;
}

/** `A = U diag(s) V^T` (rows x cols, row-major) with random orthonormal U, V; s padded with zeros. */
export function planted(rows: number, cols: number, s: number[], seed: number): Planted {
  const k = s.length;
  const u = orthonormalColumns(rows, k, seed);
  const v = orthonormalColumns(cols, k, seed + 7919);
  const a = new Float32Array(rows * cols);
  let ssq = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let x = 0;
      for (let q = 0; q < k; q++) x += u[q][i] * s[q] * v[q][j];
      a[i * cols + j] = x;
      ssq += (a[i * cols + j] - x) ** 2;
    }
  }
  return { a, u, s, roundingNorm: Math.sqrt(ssq) };
}

/** Row-major Gaussian float32 matrix. */
export function gaussianMatrix(rows: number, cols: number, seed: number): Float32Array {
  const g = gaussian(seed);
  return Float32Array.from({ length: rows * cols }, g);
}

/** Largest singular value by power iteration on A^T A (float64). */
export function powerIterationTop(a: Float32Array, rows: number, cols: number, iterations = 2000): number {
  let v = Float64Array.from({ length: cols }, gaussian(99));
  let sigma = 0;
  for (let it = 0; it < iterations; it++) {
    const av = new Float64Array(rows);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) av[i] += a[i * cols + j] * v[j];
    const w = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[j] += a[i * cols + j] * av[i];
    const nw = Math.sqrt(dot(w, w));
    sigma = Math.sqrt(nw);
    v = w.map((x) => x / nw);
  }
  return sigma;
}

/** Column j of a column-major matrix with `rows` rows. */
export function column(m: Float64Array, rows: number, j: number): Float64Array {
  return m.subarray(j * rows, (j + 1) * rows);
}

/** Dense symmetric Q diag(lambda) Q^T, row-major. */
export function plantedSymmetric(lambda: number[], seed: number): Float64Array {
  const m = lambda.length;
  const q = orthonormalColumns(m, m, seed);
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let x = 0;
      for (let p = 0; p < m; p++) x += q[p][i] * lambda[p] * q[p][j];
      g[i * m + j] = g[j * m + i] = x;
    }
  }
  return g;
}
