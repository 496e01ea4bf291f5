// Case (b): fan-out across servers. One publisher on server A (non-GD, `window` publications in flight) and
// `subscribers` WebSocket subscribers: all on A of a one-server cluster, against half on A and half on B of a
// two-server one (B gets each publication over NOTIFY). Deliveries/s, publish-to-receive p50/p99 per side, and the
// CPU split of the servers, their PostgreSQL backends, the subscriber processes and the publisher (this process).
import { backendsOf, cpuSplit, formatCpu, postgresPids } from '../lib/cpu.mjs';
import { publishSwitchboard, startSubscribers } from '../pubsub/index.mjs';
import { createTopic, liftDemoLimits, median, onDatabase, servers, stop } from './servers.mjs';

const TOPIC = '/bench/fanout';

/** One run on a fresh cluster of `count` servers, the subscribers split evenly over them. */
async function fanoutRun(count, { subscribers, messages, window, cpus }) {
  const group = await servers(`fan${count}`, count, { cpus });
  try {
    await liftDemoLimits(group);
    await createTopic(group, { name: TOPIC, hasGd: false, maxDepthNonGd: 1_000_000 });
    const per = subscribers / count;
    const sides = [];
    for (const s of group) sides.push(await startSubscribers('switchboard', s.demoUrl, per, per * messages));
    const serverPids = group.map((s) => s.child.pid);
    const groups = {
      ...Object.fromEntries(group.map((s, i) => [`server ${'AB'[i]}`, [s.child.pid]])),
      'their pg backends': () => backendsOf(serverPids, onDatabase),
      'all postgres': postgresPids,
      subscribers: sides.map((x) => x.child.pid),
      publisher: [process.pid],
    };
    const timer = setTimeout(() => sides.forEach((x) => x.child.kill('SIGTERM')), 120_000);
    const { result, cpu } = await cpuSplit(groups, async () => {
      await publishSwitchboard(group[0].demoUrl, messages, window);
      return Promise.all(sides.map((x) => x.result));
    });
    clearTimeout(timer);
    const received = result.reduce((n, r) => n + r.received, 0);
    // Both sides start within milliseconds of each other: the longer span is the run's.
    const spanMs = Math.max(...result.map((r) => r.spanMs));
    return {
      deliveredPerSec: Math.round(received / (spanMs / 1000)),
      received,
      expected: subscribers * messages,
      sides: result.map((r, i) => ({ server: 'AB'[i], received: r.received, p50: r.p50, p99: r.p99 })),
      cpu,
    };
  } finally {
    await stop(group);
  }
}

/** One server against two, `rounds` rounds taking turns, each server held to `cpus` cores when given. */
async function compare(options, cpus) {
  const runs = { one: [], two: [] };
  for (let i = 0; i < options.rounds; i++) {
    const order = i % 2 ? ['two', 'one'] : ['one', 'two'];
    for (const k of order) runs[k].push(await fanoutRun(k === 'one' ? 1 : 2, { ...options, cpus }));
    console.error(
      `[bench] (b)${cpus ? ` at ${cpus} core per server` : ''} round ${i + 1}/${options.rounds}: one server ${runs.one[i].deliveredPerSec}/s, two ${runs.two[i].deliveredPerSec}/s`,
    );
  }
  const ratios = runs.two.map((r, i) => +(r.deliveredPerSec / runs.one[i].deliveredPerSec).toFixed(2));
  const pick = (list) => list.find((r) => r.deliveredPerSec === median(list.map((x) => x.deliveredPerSec)));
  const [one, two] = [pick(runs.one), pick(runs.two)];
  console.log(cpus ? `each server held to ${cpus} core of CPU:` : 'every process sharing the machine:');
  for (const [label, r] of [
    ['one server', one],
    ['two servers', two],
  ]) {
    const sides = r.sides.map((s) => `${s.server}: p50 ${s.p50} ms, p99 ${s.p99} ms`).join('; ');
    console.log(
      `${label.padEnd(12)} ${String(r.deliveredPerSec).padStart(9)} deliveries/s (${r.received}/${r.expected}); ${sides}`,
    );
    console.log(`${''.padEnd(12)} CPU (% of one core): ${formatCpu(r.cpu)}`);
  }
  console.log(`ratio two/one: ${median(ratios)} (rounds: ${ratios.join(', ')}; target >= 0.8)`);
  return {
    one_server: one.deliveredPerSec,
    two_servers: two.deliveredPerSec,
    ratio_two_vs_one: median(ratios),
    ratio_rounds: ratios,
    p99_ms: { one: one.sides[0].p99, two_on_a: two.sides[0].p99, two_on_b: two.sides[1].p99 },
    cpu: { one: one.cpu, two: two.cpu },
  };
}

/**
 * Runs case (b): one server against two with every process sharing the machine, then (`cpus`) with each server held
 * to that much CPU; prints tables, the ratios and a JSON line.
 */
export async function fanoutCase({ subscribers, messages, window, rounds, cpus }) {
  console.log(
    `\n(b) fan-out: 1 publisher on A (${window} in flight) → ${subscribers} subscribers, ${messages} non-GD messages; ` +
      `${subscribers} on one server vs ${subscribers / 2} on A + ${subscribers / 2} on B; ${rounds} rounds`,
  );
  const options = { subscribers, messages, window, rounds };
  const result = {
    bench: 'cluster-fanout',
    ...(await compare(options, undefined)),
    ...(cpus ? { [`at_${cpus}_core_per_server`]: await compare(options, cpus) } : {}),
    subscribers,
    messages,
    window,
    rounds,
    target: 0.8,
  };
  console.log(JSON.stringify(result));
  return result;
}
