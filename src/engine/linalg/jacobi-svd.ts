/**
 * Reference singular values by one-sided (Hestenes) Jacobi in float64: an
 * independent second method for small matrices (O(sweeps * m^2 n)). Rotates
 * pairs of columns of the orientation with fewer columns until all pairs are
 * orthogonal to working precision; the column norms are then the singular
 * values, with high relative accuracy.
 *
 * @param a row-major rows x cols matrix (not modified)
 * @returns all min(rows, cols) singular values, descending
 */
export function jacobiSingularValues(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`'rows' must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 0) throw new RangeError(`'cols' must be a non-negative integer, got ${cols}`);
  if (a.length !== rows * cols) throw new RangeError(`'a' must have rows * cols = ${rows * cols} elements, got ${a.length}`);
  // Columns of the working matrix, each of length `len`: columns of A, or of A^T when A is wide.
  const wide = cols > rows;
  const count = wide ? rows : cols;
  const len = wide ? cols : rows;
  const columns: Float64Array[] = [];
  for (let j = 0; j < count; j++) {
    const c = new Float64Array(len);
    for (let i = 0; i < len; i++) c[i] = wide ? a[j * cols + i] : a[i * cols + j];
    columns.push(c);
  }
  const eps = 2 ** -52;
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let p = 0; p < count - 1; p++) {
      for (let q = p + 1; q < count; q++) {
        const x = columns[p];
        const y = columns[q];
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < len; i++) {
          alpha += x[i] * x[i];
          beta += y[i] * y[i];
          gamma += x[i] * y[i];
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < len; i++) {
          const xi = x[i];
          const yi = y[i];
          x[i] = c * xi - s * yi;
          y[i] = s * xi + c * yi;
        }
      }
    }
    if (!rotated) break;
  }
  const values = columns.map((c) => Math.sqrt(c.reduce((acc, v) => acc + v * v, 0)));
  values.sort((u, v) => v - u);
  return Float64Array.from(values);
}
