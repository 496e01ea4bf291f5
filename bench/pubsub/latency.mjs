// Publish-to-receive latency histograms of the fan-out case: buckets of 10 µs, kept as [bucket, count] pairs so that
// the subscriber processes of one run can be merged into one set of quantiles.

const BUCKET_MS = 0.01;

/** The bucket of a latency in ms. */
export const bucketOf = (ms) => Math.max(0, Math.round(ms / BUCKET_MS));

/** Merges [bucket, count] lists into one, sorted by bucket. */
function mergeHistograms(lists) {
  const all = new Map();
  for (const list of lists) for (const [b, n] of list) all.set(b, (all.get(b) ?? 0) + n);
  return [...all].sort((x, y) => x[0] - y[0]);
}

/** The latency (ms) at percentile `p` of a sorted [bucket, count] list, as a sorted array's element at floor(p·n). */
function quantile(sorted, p) {
  const total = sorted.reduce((n, [, c]) => n + c, 0);
  if (!total) return 0;
  const rank = Math.min(total - 1, Math.floor((p / 100) * total));
  let seen = 0;
  for (const [b, c] of sorted) {
    seen += c;
    if (seen > rank) return +(b * BUCKET_MS).toFixed(2);
  }
  return +(sorted[sorted.length - 1][0] * BUCKET_MS).toFixed(2);
}

/** p50, p99 and p99.9 of [bucket, count] lists merged. */
export function latencySummary(lists) {
  const sorted = mergeHistograms(lists);
  return { p50: quantile(sorted, 50), p99: quantile(sorted, 99), p999: quantile(sorted, 99.9) };
}
