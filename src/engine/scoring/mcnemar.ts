/**
 * McNemar's exact test: under the null, each of the m = nTF + nFT
 * discordant pairs falls either way with probability 1/2, so the two-sided
 * p-value is min(1, 2 * P(X <= min(nTF, nFT))), X ~ Binomial(m, 1/2).
 * p = 1 when there are no discordant pairs.
 * @throws RangeError when a count is not a non-negative integer
 */
export function mcnemarExactP(nTF: number, nFT: number): number {
  for (const [name, value] of [['nTF', nTF], ['nFT', nFT]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`mcnemarExactP: '${name}' must be a non-negative integer, got ${value}`);
  }
  const m = nTF + nFT;
  const k = Math.min(nTF, nFT);
  if (2 * k >= m) return 1;
  // Sum from the largest term (k <= m/2) down, relative to it, so large m neither underflows nor loses the tail.
  let logTop = -m * Math.LN2;
  for (let i = 1; i <= k; i++) logTop += Math.log((m - k + i) / i);
  let term = 1;
  let sum = 1;
  for (let j = k; j > 0; j--) {
    term *= j / (m - j + 1);
    sum += term;
  }
  return Math.min(1, 2 * Math.exp(logTop) * sum);
}
