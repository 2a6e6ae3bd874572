/** Levenshtein distance, for "did you mean" messages. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Up to `n` candidates closest to `word` (by edit distance, then prefix), nearest first. */
export function closest(word: string, candidates: readonly string[], n = 3): string[] {
  const w = word.toLowerCase();
  return candidates
    .map((c) => ({ c, d: editDistance(w, c.toLowerCase()) - (c.startsWith(w.slice(0, 3)) ? 0.5 : 0) }))
    .filter(({ c, d }) => d <= Math.max(1, Math.floor(Math.max(w.length, c.length) / 3)))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, n)
    .map(({ c }) => c);
}
