/**
 * Preloaded into a server child when BENCH_CPU_PROF=1 (`-r ./bench/profile-hook.ts`): the first
 * SIGUSR2 starts the V8 CPU profiler, the next one stops it and writes
 * `<BENCH_PROFILE_DIR>/<BENCH_PROFILE_NAME>.cpuprofile`. So a profile covers one load run only, not
 * the start-up (module loading, ts-node) or the flows that prepared the sessions.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
const name = process.env.BENCH_PROFILE_NAME ?? `pid-${process.pid}`;

if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  // BENCH_PROFILE_HEAP=1: where memory is allocated (garbage included) instead of where time goes.
  const heap = process.env.BENCH_PROFILE_HEAP === '1';
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      if (heap)
        session.post('HeapProfiler.startSampling', {
          samplingInterval: 8192,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        } as never);
      else session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    if (heap) {
      session.post('HeapProfiler.stopSampling', (err, result) => {
        if (err) return void process.stderr.write(`profile-hook: ${err.message}\n`);
        const file = path.join(dir, `${name}.heapprofile`);
        writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
        renameSync(`${file}.tmp`, file);
      });
      return;
    }
    session.post('Profiler.stop', (err, result) => {
      if (err) {
        process.stderr.write(`profile-hook: ${err.message}\n`);
        return;
      }
      // Written aside and renamed, so the waiting parent never reads half a file.
      const file = path.join(dir, `${name}.cpuprofile`);
      writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      renameSync(`${file}.tmp`, file);
    });
  });
}
