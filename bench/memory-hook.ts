/**
 * Preloaded into the memory benchmark's server child (`-r ./bench/memory-hook.ts`): on SIGUSR2 it
 * runs a full garbage collection (through the inspector, no --expose-gc needed) and writes
 * `process.memoryUsage()` to BENCH_MEMORY_FILE. RSS alone cannot tell memory the server keeps from
 * garbage V8 has not collected yet; the heap after a full collection can.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.BENCH_MEMORY_FILE;

if (file) {
  const session = new Session();
  session.connect();
  process.on('SIGUSR2', () => {
    session.post('HeapProfiler.collectGarbage', (err) => {
      if (err) {
        process.stderr.write(`memory-hook: ${err.message}\n`);
        return;
      }
      // Written aside and renamed, so the waiting parent never reads half a file.
      writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()));
      renameSync(`${file}.tmp`, file);
    });
  });
}
