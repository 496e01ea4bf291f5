// Per-process CPU for the cluster bench: Switchboard servers, helper processes, and the PostgreSQL backends that
// serve given processes (found through pg_stat_activity's client_port and the processes' own sockets), read from
// /proc before and after a measurement. Linux only; elsewhere every figure is undefined.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TICKS = 100;

/** CPU seconds a process has used so far, user and system apart, or undefined when it is gone or /proc is missing. */
export function cpuTimes(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { user: Number(fields[11]) / TICKS, system: Number(fields[12]) / TICKS };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, or undefined when it is gone or /proc is missing. */
export function cpuSeconds(pid) {
  const t = cpuTimes(pid);
  return t && t.user + t.system;
}

/** The pids of every process named `postgres` (all of PostgreSQL: other work's backends included). */
export function postgresPids() {
  const pids = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function safeReaddir(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Local TCP ports of `pid`'s sockets connected to port 5432 (its PostgreSQL connections). */
function postgresClientPorts(pid) {
  const inodes = new Set();
  for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9])) continue;
      const [local, remote] = [f[1], f[2]];
      if (parseInt(remote.split(':')[1], 16) === 5432) ports.push(parseInt(local.split(':')[1], 16));
    }
  }
  return ports;
}

/** The PostgreSQL backend pids serving the processes `pids`, asked through `query(sql, params)` (pg_stat_activity). */
export async function backendsOf(pids, query) {
  const ports = pids.flatMap(postgresClientPorts);
  if (!ports.length) return [];
  const rows = await query('select pid from pg_stat_activity where client_port = any($1::int[])', [ports]);
  return rows.map((r) => Number(r.pid));
}

/**
 * Samples the CPU of named groups of pids around `fn`: resolves with `fn`'s result and, per group, the CPU used
 * meanwhile as % of one core. Each pid is read every 100 ms too, so a process that exits before `fn` resolves (a
 * helper that reports and quits) counts up to its last reading. A group given as a function is asked for its pids
 * before and after: a pid only there after (a pool connection's backend opened meanwhile) counts all its CPU.
 */
export async function cpuSplit(groups, fn) {
  const ask = async () =>
    Object.fromEntries(
      await Promise.all(Object.entries(groups).map(async ([k, g]) => [k, typeof g === 'function' ? await g() : g])),
    );
  const start = await ask();
  const pids = [...new Set(Object.values(start).flat())];
  const first = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
  const last = new Map(first);
  const sample = () => {
    for (const pid of pids) {
      const now = cpuSeconds(pid);
      if (now !== undefined) last.set(pid, now);
    }
  };
  const timer = setInterval(sample, 100);
  const t0 = performance.now();
  try {
    const result = await fn();
    sample();
    const seconds = (performance.now() - t0) / 1000;
    const end = await ask();
    const cpu = {};
    for (const [k, list] of Object.entries(start)) {
      const late = end[k].filter((pid) => !first.has(pid));
      const used =
        list.reduce((n, pid) => n + ((last.get(pid) ?? 0) - (first.get(pid) ?? last.get(pid) ?? 0)), 0) +
        late.reduce((n, pid) => n + (cpuSeconds(pid) ?? 0), 0);
      cpu[k] = Math.round((used / seconds) * 100);
    }
    return { result, cpu, seconds };
  } finally {
    clearInterval(timer);
  }
}

/** One line of a CPU split: `A 95 %, B 60 %, …` (% of one core). */
export function formatCpu(cpu) {
  return Object.entries(cpu)
    .map(([k, v]) => `${k} ${v} %`)
    .join(', ');
}
