// Hot-deployed into server A by the cluster bench's case (c): keeps `perClient` invokes in flight to each of the
// clients `ids` of `channel` (on any server: another server's go over NOTIFY RPC) for `durationMs` after
// `warmupMs`, and reports calls/s and latency percentiles.
import { Service } from 'switchboard';

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

export class BenchClusterInvoker extends Service {
  static serviceName = 'bench.cluster-invoker';

  async handle() {
    const { channel, ids, perClient = 1, durationMs = 5000, warmupMs = 1000 } = this.request.payload;
    const handle = this.wsx.channel(channel);
    const measureFrom = performance.now() + warmupMs;
    const stopAt = measureFrom + durationMs;
    const latencies = [];
    let errors = 0;
    let firstError;
    const lane = async (id) => {
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        try {
          await handle.invoke(id, { n: 123, text: 'hello' }, { timeout: 10_000 });
        } catch (err) {
          errors++;
          firstError ??= String(err?.message ?? err);
        }
        if (t0 >= measureFrom) latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(ids.flatMap((id) => Array.from({ length: perClient }, () => lane(id))));
    latencies.sort((a, b) => a - b);
    this.response.payload = {
      callsPerSec: Math.round(latencies.length / (durationMs / 1000)),
      p50: +percentile(latencies, 50).toFixed(3),
      p99: +percentile(latencies, 99).toFixed(3),
      errors,
      ...(firstError ? { firstError } : {}),
    };
  }
}
