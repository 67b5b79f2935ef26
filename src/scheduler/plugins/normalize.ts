// helper.DefaultNormalizeScore: scale to 0..max by the highest score (integer division, as Go's int64);
// `reverse` makes fewer better.

export function defaultNormalizeScore(max: number, reverse: boolean, scores: Float64Array): void {
  let highest = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > highest) highest = scores[i];
  if (highest === 0) {
    if (reverse) scores.fill(max);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const v = Math.trunc((max * scores[i]) / highest);
    scores[i] = reverse ? max - v : v;
  }
}
