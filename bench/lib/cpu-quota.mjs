// A CPU budget for one process, through a cgroup of its own (Linux, root): cgroup v1's `cpu` controller
// (cpu.cfs_quota_us) or cgroup v2's `cpu.max`. The cluster bench gives each server the same budget so that one
// server against two compares what the design does when each server has CPU of its own, which two servers, their
// PostgreSQL and the generator sharing 2 cores cannot show (issue 12).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PERIOD_US = 100_000;

/** Where a cgroup with a CPU quota can be made here, or undefined (no cgroup, not root, no cpu controller). */
function cpuRoot() {
  const v1 = '/sys/fs/cgroup/cpu';
  if (existsSync(join(v1, 'cpu.cfs_quota_us'))) return { dir: v1, v2: false };
  try {
    if (readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('cpu')) {
      return { dir: '/sys/fs/cgroup', v2: true };
    }
  } catch {
    // no cgroup v2 here
  }
  return undefined;
}

/** Whether `limitCpu` can work on this machine: a cgroup could be made and removed. */
export function cpuQuotaAvailable() {
  const root = cpuRoot();
  if (!root) return false;
  const probe = join(root.dir, `sb-bench-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves `pid` (all its threads) into a new cgroup allowed `cores` CPUs' worth of time (e.g. 0.5); returns a
 * function that removes the cgroup once the process has exited. Throws when that cannot be done.
 */
export function limitCpu(pid, cores, label) {
  const root = cpuRoot();
  if (!root) throw new Error('no cgroup cpu controller here');
  const dir = join(root.dir, `sb-bench-${label}-${pid}`);
  mkdirSync(dir);
  const quota = Math.round(cores * PERIOD_US);
  if (root.v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
  else {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
  }
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  return () => {
    try {
      rmdirSync(dir);
    } catch {
      // still has a process (not exited yet): left for the next boot; harmless
    }
  };
}
