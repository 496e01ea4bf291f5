// Hot-deployed into the calling Switchboard by the outgoing bench: keeps `concurrency` invokes in flight
// through an outgoing connection for a while, and reports throughput and latency percentiles.
import { Service } from 'switchboard';

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export class BenchDriver extends Service {
  static serviceName = 'bench.outgoing-driver';

  async handle() {
    const { conn, concurrency = 64, durationMs = 5000, warmupMs = 1000 } = this.request.payload;
    const msg = { service: 'zato.helpers.echo', request: { n: 123, text: 'hello' } };
    const handle = this.out.wsx.get(conn);
    const start = performance.now();
    const measureFrom = start + warmupMs;
    const stopAt = measureFrom + durationMs;
    const latencies = [];
    let errors = 0;
    const loop = async () => {
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        try {
          await using client = await handle.conn.client();
          const response = await client.invoke(msg);
          if (!response?.isOk) errors++;
        } catch {
          errors++;
        }
        if (t0 >= measureFrom) latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    latencies.sort((a, b) => a - b);
    this.response.payload = {
      msgsPerSec: Math.round(latencies.length / (durationMs / 1000)),
      p50: +percentile(latencies, 50).toFixed(3),
      p99: +percentile(latencies, 99).toFixed(3),
      errors,
    };
  }
}
