import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..');

/** A port nobody listens on right now (the kernel's pick; released before the child takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Child {
  name: string;
  url: string;
  pid: number;
  /** The last lines the child wrote, for error messages. */
  tail(): string;
  /** Resident set size in bytes, from /proc (Linux) or `ps`. */
  rssBytes(): number;
  /** CPU time (user + system) the child has used so far, in ms. */
  cpuMs(): number;
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface ChildOptions {
  name: string;
  /** A TypeScript entry point, relative to the repository root; it runs compiled (see buildOnce). */
  file: string;
  port: number;
  env: Record<string, string>;
  /** A path answering 200 once the child can serve. */
  readyPath: string;
  nodeArgs?: string[];
  /** Modules (TypeScript, relative to the repository root) required before the entry point. */
  preload?: string[];
  /** Sees everything the child writes (stdout and stderr). */
  onOutput?: (chunk: string) => void;
  readyTimeoutMs?: number;
}

const TAIL_BYTES = 8192;

/**
 * The project compiled once per run into bench/.build (tsc, as `npm run build` does), so children run
 * plain JavaScript like production: under ts-node they would carry the TypeScript compiler in their
 * heap and Node's domain-aware event emitters (ts-node loads the REPL), and measure that too.
 */
const BUILDS = path.join(REPO_ROOT, 'bench', '.build');
/**
 * One build per process: two processes at once (a benchmark beside a test run, or jest workers)
 * must not delete each other's compiled server while it starts. Removed at exit; builds of
 * processes that no longer run are removed by the next build.
 */
export const BUILD_DIR = path.join(BUILDS, String(process.pid));
let built = false;

export function buildOnce(): void {
  if (built) return;
  removeStaleBuilds();
  rmSync(BUILD_DIR, { recursive: true, force: true });
  process.once('exit', () => rmSync(BUILD_DIR, { recursive: true, force: true }));
  const tsc = spawnSync(
    process.execPath,
    [
      require.resolve('typescript/bin/tsc'),
      '-p',
      'tsconfig.json',
      '--outDir',
      BUILD_DIR,
      '--noEmit',
      'false',
      '--sourceMap',
      'false',
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  // What the server reads at run time relative to its compiled files.
  cpSync(path.join(REPO_ROOT, 'openapi.yaml'), path.join(BUILD_DIR, 'openapi.yaml'));
  cpSync(path.join(REPO_ROOT, 'public'), path.join(BUILD_DIR, 'public'), { recursive: true });
  built = true;
}

function removeStaleBuilds(): void {
  if (!existsSync(BUILDS)) return;
  for (const name of readdirSync(BUILDS)) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    // Not a process's build (the layout before per-process builds: bench/.build/src, …), or the
    // build of a process that has ended.
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid))
      rmSync(path.join(BUILDS, name), { recursive: true, force: true });
  }
}

/** True while the process runs; a zombie (exited, not reaped by its parent) counts as ended. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const compiled = (file: string) => path.join(BUILD_DIR, file.replace(/^\.\//, '').replace(/\.ts$/, '.js'));

/** Starts `node <compiled file>` and waits (bounded) until it answers on `readyPath`. */
export async function startChild(options: ChildOptions): Promise<Child> {
  buildOnce();
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      ...(options.preload ?? []).flatMap((m) => ['-r', compiled(m)]),
      compiled(options.file),
    ],
    {
      cwd: REPO_ROOT,
      // Only what the child needs: nothing from the caller's environment leaks into its configuration.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-TAIL_BYTES);
    options.onOutput?.(chunk.toString());
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : null);
      resolve();
    }),
  );

  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (let attempt = 0; ; attempt++) {
    if (exited !== undefined)
      throw new Error(`${options.name} exited (${exited}) before it was ready:\n${output}`);
    if (Date.now() > deadline || attempt > 600) {
      proc.kill('SIGKILL');
      throw new Error(`${options.name} was not ready within the deadline:\n${output}`);
    }
    try {
      const res = await fetch(url + options.readyPath, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const pid = proc.pid as number;
  return {
    name: options.name,
    url,
    pid,
    tail: () => output,
    rssBytes: () => rssOf(pid),
    cpuMs: () => cpuMsOf(pid),
    signal: (signal) => void proc.kill(signal),
    async stop() {
      if (exited !== undefined) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

const CLOCK_TICKS_PER_S = 100;

/** CPU time (user + system) process `pid` has used, in ms. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** CPU time all cores have spent busy (not idle, not waiting for I/O) since boot, in ms. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const ticks = [user, nice, system, irq, softirq, steal].reduce<number>((a, v) => a + (v ?? 0), 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** The sandbox provider as a child process on a free port, with the given client and extra settings. */
export async function startSandboxChild(
  client: { clientId: string; clientSecret: string },
  env: Record<string, string> = {},
  start: (options: ChildOptions) => Promise<Child> = startChild,
): Promise<Child> {
  const port = await freePort();
  return start({
    name: 'sandbox',
    file: 'src/sandbox/main.ts',
    port,
    readyPath: '/__sandbox/stats',
    env: {
      SANDBOX_PORT: String(port),
      SANDBOX_HOST: '127.0.0.1',
      SANDBOX_CLIENT_ID: client.clientId,
      SANDBOX_CLIENT_SECRET: client.clientSecret,
      ...env,
    },
  });
}
