// Case (b): guaranteed-delivery publishes committed per second. `publishers` WSX connections publish to one GD
// topic, each keeping `window` publications in flight (1 = wait for each reply); a reply comes only after the
// commit. The publishers are the echo bench's raw-TCP load generator, in its own process, so that what the bench
// spends on producing load does not come out of the server's share of the machine.
import { join } from 'node:path';
import { root, runJson } from '../lib/processes.mjs';

const loadgen = join(root, 'bench', 'lib', 'loadgen.mjs');

export async function measureGd({ url, topic, publishers = 8, window = 1, durationMs = 5000, warmupMs = 1000 }) {
  const { hostname, port, pathname } = new URL(url);
  const r = await runJson(loadgen, [
    JSON.stringify({
      host: hostname,
      port: Number(port),
      path: pathname,
      mode: 'zato',
      connections: publishers,
      window,
      warmupMs,
      durationMs,
      service: 'zato.pubsub.pubapi.publish-message',
      request: { topic_name: topic, data: { n: 123, text: 'hello' }, has_gd: true },
    }),
  ]);
  // The load generator counts every reply; refusals (none expected) are not commits.
  return {
    committedPerSec: Math.round(r.msgsPerSec - r.errors / (durationMs / 1000)),
    p50: r.p50,
    p99: r.p99,
    errors: r.errors,
    publishers,
    window,
  };
}
