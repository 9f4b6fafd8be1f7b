/**
 * Preloaded (`--require`) into each benchmarked server when BENCH_EXPLAIN is set: appends the
 * server's garbage-collection pauses and event-loop stalls, with wall-clock times, to
 * BENCH_TRACE_FILE, so that the benchmark can line them up with the deliveries behind its p99.
 * The 1 ms timer that finds stalls costs the server some CPU: quote figures from runs without it.
 */
import { appendFileSync } from 'node:fs';
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';

export interface Pause {
  /** A young-generation collection, a pause of a full one (marking step, finalisation), or a stall. */
  kind: 'minor' | 'major' | 'stall';
  /** Wall-clock time it began, in ms since the epoch (as `performance.timeOrigin + performance.now()`). */
  at: number;
  ms: number;
  /** For a stall: the process's CPU time meanwhile (all threads). Near `ms`, it was busy; near 0, it waited for a core. */
  cpuMs?: number;
}

/** Stalls shorter than this are not noted: a timer is often a fraction of a millisecond late. */
const STALL_MS = 2;

const file = process.env.BENCH_TRACE_FILE;
if (file) {
  const note = (pause: Pause) => appendFileSync(file, `${JSON.stringify(pause)}\n`);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind } = (entry as unknown as { detail: { kind: number } }).detail;
      note({ kind: kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : 'major', at: performance.timeOrigin + entry.startTime, ms: entry.duration });
    }
  }).observe({ entryTypes: ['gc'] });

  // A timer due every millisecond that fires late means the loop was busy (a long task, a GC) or
  // the process was not scheduled.
  let last = performance.now();
  let lastCpu = cpuMs();
  setInterval(() => {
    const now = performance.now();
    const cpu = cpuMs();
    const late = now - last - 1;
    if (late > STALL_MS) note({ kind: 'stall', at: performance.timeOrigin + last + 1, ms: late, cpuMs: cpu - lastCpu });
    last = now;
    lastCpu = cpu;
  }, 1).unref();
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
