// The servers of the cluster bench: `count` Switchboard processes on one fresh PostgreSQL schema (or one on SQLite),
// and the statistics every case prints.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { limitCpu } from '../lib/cpu-quota.mjs';
import { freePort, startSwitchboard } from '../lib/processes.mjs';

export const PG = process.env.SWITCHBOARD_TEST_DB ?? 'postgres://postgres@127.0.0.1:5432/test';
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Runs one statement on the bench's database. */
export async function onDatabase(sql, params) {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * `count` servers on one fresh PostgreSQL schema (or one SQLite server when `count` is 0), named `<label>-<i>`, each
 * at port offset `10 × i` on the same demo channel; `servicesDir` is given to every one (each deploys the same files).
 * `cpus`: each server is held to that many cores' worth of CPU once started (bench/lib/cpu-quota.mjs).
 */
export async function servers(label, count, { servicesDir, cpus } = {}) {
  const group = await startServers(label, count, servicesDir);
  if (cpus) for (const s of group) s.releaseCpu = limitCpu(s.child.pid, cpus, s.name ?? label);
  return group;
}

async function startServers(label, count, servicesDir) {
  if (count === 0) return [await startSwitchboard(`${label}-sqlite`, { servicesDir })];
  const schema = `sb_bench_${randomBytes(4).toString('hex')}`;
  const demoPort = await freePort();
  const started = [];
  for (let i = 0; i < count; i++) {
    const server = await startSwitchboard(`${label}-${i}`, {
      servicesDir,
      env: {
        SWITCHBOARD_DB: `${PG}?schema=${schema}`,
        SWITCHBOARD_SERVER_NAME: `${label}-${i}`,
        SWITCHBOARD_PORT_OFFSET: String(i * 10),
        SWITCHBOARD_DEMO_PORT: String(demoPort),
      },
    });
    started.push(Object.assign(server, { name: `${label}-${i}` }));
  }
  started.schema = schema;
  return started;
}

/** Kills the group's servers and drops their schema. */
export async function stop(group) {
  for (const s of group) s.child.kill('SIGKILL');
  await Promise.all(
    group.map((s) =>
      s.child.exitCode === null && s.child.signalCode === null ? new Promise((r) => s.child.once('exit', r)) : undefined,
    ),
  );
  for (const s of group) s.releaseCpu?.();
  if (group.schema) await onDatabase(`drop schema if exists "${group.schema}" cascade`);
}

/** Waits until `check()` is truthy (polling every 100 ms), or throws naming `what` after `timeoutMs`. */
export async function until(check, what, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until every server of `group` has the topic `name` (config fan-out), after creating it on the first. */
export async function createTopic(group, topic) {
  await group[0].api('POST', '/api/pubsub/topics', topic);
  const path = `/api/pubsub/topics/${encodeURIComponent(topic.name)}`;
  for (const s of group) await until(() => s.api('GET', path), `${topic.name} on ${s.name ?? 'the server'}`);
}

/** Lifts the demo channel's connection limits (1,000 subscribers from one address) and waits for every server. */
export async function liftDemoLimits(group) {
  const { runtime, ...config } = await group[0].api('GET', '/api/channels/wsx/demo');
  await group[0].api('PUT', '/api/channels/wsx/demo', { ...config, maxConnections: null, maxConnectionsPerIp: null });
  for (const s of group)
    await until(
      async () => {
        const { runtime: r, ...c } = await s.api('GET', '/api/channels/wsx/demo');
        return c.maxConnectionsPerIp === null && r?.state === 'listening';
      },
      `the demo channel's limits lifted on ${s.name ?? 'the server'}`,
    );
}
