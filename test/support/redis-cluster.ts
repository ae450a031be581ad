import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createCluster, type RedisClusterType } from 'redis';

/** A private Redis Cluster of `masters` masters (no replicas) on 127.0.0.1, for tests. */
export interface RedisCluster {
  /** "127.0.0.1:<port>" of every master, in start order: what REDIS_CLUSTER_NODES takes (joined with ","). */
  nodes: string[];
  ports: number[];
  /** The working directory (nodes-*.conf, logs); removed by close(). */
  dir: string;
  /** How long the start took, in milliseconds. */
  startMs: number;
  /** Shuts every node down (nosave) and removes the working directory. Safe to call twice. */
  close(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Number of masters; Redis Cluster needs at least 3. */
  masters?: number;
  /** Bound on the whole start (processes up, cluster create, cluster_state:ok everywhere). */
  timeoutMs?: number;
  /**
   * The client ports to use (one per master), e.g. ones a server was pointed at before the cluster
   * existed (see freePorts). Default: free ports picked here.
   */
  ports?: number[];
}

const INSTALL_HINT =
  'Install Redis 7 (Debian/Ubuntu: `apt-get install -y redis-server`, which also provides redis-cli) and make sure both are on PATH.';

/**
 * Starts a real Redis Cluster: one `redis-server --cluster-enabled yes` per master on free ports,
 * joined with `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok`.
 * Throws (never skips) with what failed and how to fix it. Reusable by any suite: each call gets its
 * own ports and directory.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.ports?.length ?? options.masters ?? 3;
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (masters < 3)
    throw new Error(`startRedisCluster: Redis Cluster needs at least 3 masters, got ${masters}`);
  const started = Date.now();
  const deadline = started + timeoutMs;

  await requireBinary('redis-server');
  await requireBinary('redis-cli');

  // Client ports and cluster-bus ports are all picked free: the default bus port (port + 10000) can be
  // taken or even above 65535 for a high ephemeral port.
  const ports = options.ports ?? (await freePorts(masters));
  const busPorts = await freePorts(masters, ports);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bff-redis-cluster-'));
  const nodes = ports.map((p) => `127.0.0.1:${p}`);

  const pids = new Map<number, number>();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(ports.map((port) => shutdownNode(port, pids.get(port) ?? readPid(dir, port))));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const [i, port] of ports.entries()) {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(dir, `nodes-${port}.conf`),
        '--cluster-port',
        String(busPorts[i]),
        '--cluster-node-timeout',
        '5000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'yes',
        '--dir',
        dir,
        '--pidfile',
        pidfileOf(dir, port),
        '--logfile',
        logfileOf(dir, port),
      ];
      const result = await run('redis-server', args, 5000);
      if (result.code !== 0) {
        throw new Error(
          `redis-server on port ${port} did not start (exit ${result.code}): ${result.output}${tail(logfileOf(dir, port))}`,
        );
      }
    }
    for (const port of ports) {
      await waitFor(
        deadline,
        `redis-server on port ${port} to answer PING`,
        async () => (await cli(port, ['ping'])).output.trim() === 'PONG',
        () => tail(logfileOf(dir, port)),
      );
      const pid = readPid(dir, port);
      if (pid !== undefined) pids.set(port, pid);
    }

    const create = await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
      Math.max(1000, deadline - Date.now()),
    );
    if (create.code !== 0 || !/All \d+ slots covered/.test(create.output)) {
      throw new Error(
        `\`redis-cli --cluster create ${nodes.join(' ')}\` failed (exit ${create.code}):\n${create.output}`,
      );
    }

    for (const port of ports) {
      let info = '';
      await waitFor(
        deadline,
        `node ${port} to report cluster_state:ok with ${masters} known nodes`,
        async () => {
          info = (await cli(port, ['cluster', 'info'])).output;
          return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`);
        },
        () => `\nlast CLUSTER INFO:\n${info}`,
      );
    }
  } catch (err) {
    const logs = ports.map((port) => tail(logfileOf(dir, port))).join('');
    await close().catch(() => undefined);
    throw new Error(
      `Could not start a ${masters}-master Redis Cluster for the tests: ${(err as Error).message}\n` +
        'It needs redis-server >= 7 with cluster support and redis-cli (Debian/Ubuntu: `apt-get install -y redis-server`), ' +
        `free local ports, and at most ${timeoutMs} ms (raise startRedisCluster({ timeoutMs }) on a slow machine).${logs}`,
      { cause: err },
    );
  }

  return { nodes, ports, dir, startMs: Date.now() - started, close };
}

/** A cluster client for inspecting what the server stored; scans every master. */
export type ClusterInspector = RedisClusterType & {
  /** Every key under the prefix, on all masters, sorted. */
  keysUnder(prefix: string): Promise<string[]>;
  /** Where each key lives: "127.0.0.1:<port>" of the master that holds it. */
  keysByNode(prefix: string): Promise<Map<string, string[]>>;
  keySlot(key: string): Promise<number>;
  dropPrefix(prefix: string): Promise<void>;
};

export async function inspectCluster(nodes: string[]): Promise<ClusterInspector> {
  const cluster = createCluster({
    rootNodes: nodes.map((n) => ({ url: `redis://${n}` })),
  }) as RedisClusterType;
  cluster.on('error', () => undefined);
  await cluster.connect();

  const keysByNode = async (prefix: string) => {
    const byNode = new Map<string, string[]>();
    for (const master of cluster.masters) {
      const client = await cluster.nodeClient(master);
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
      byNode.set(`${master.host}:${master.port}`, keys.sort());
    }
    return byNode;
  };
  return Object.assign(cluster, {
    keysByNode,
    async keysUnder(prefix: string) {
      return [...(await keysByNode(prefix)).values()].flat().sort();
    },
    async keySlot(key: string) {
      return Number(await cluster.sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key]));
    },
    async dropPrefix(prefix: string) {
      // One DEL per key: keys under a prefix span many slots.
      for (const keys of (await keysByNode(prefix)).values()) for (const key of keys) await cluster.del(key);
    },
  });
}

const pidfileOf = (dir: string, port: number) => path.join(dir, `redis-${port}.pid`);
const logfileOf = (dir: string, port: number) => path.join(dir, `redis-${port}.log`);

function readPid(dir: string, port: number): number | undefined {
  try {
    return Number(readFileSync(pidfileOf(dir, port), 'utf8').trim()) || undefined;
  } catch {
    return undefined; // never started
  }
}

/** SHUTDOWN NOSAVE, then waits for that process (by its own pid) to be gone, else SIGKILLs it. */
async function shutdownNode(port: number, pid: number | undefined): Promise<void> {
  await cli(port, ['shutdown', 'nosave']).catch(() => undefined);
  if (pid === undefined) return;
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone in between
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function requireBinary(name: string): Promise<void> {
  const result = await run(name, ['--version'], 5000);
  if (result.code !== 0)
    throw new Error(
      `Redis Cluster tests need \`${name}\`, and \`${name} --version\` failed: ${result.output.trim()}. ${INSTALL_HINT}`,
    );
}

function cli(port: number, args: string[]) {
  return run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], 2000);
}

interface RunResult {
  code: number;
  output: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (!err) return resolve({ code: 0, output });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (e.killed) return resolve({ code: 124, output: `timed out after ${timeoutMs} ms\n${output}` });
      if (e.code === 'ENOENT') return resolve({ code: 127, output: `${file}: command not found` });
      resolve({ code: typeof e.code === 'number' ? e.code : 1, output: output || e.message });
    });
  });
}

async function waitFor(
  deadline: number,
  what: string,
  check: () => Promise<boolean>,
  detail: () => string = () => '',
): Promise<void> {
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail()}`);
    await sleep(100);
  }
}

function tail(file: string): string {
  try {
    return `\n--- ${file} (last lines) ---\n${readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')}`;
  } catch {
    return '';
  }
}

/** Distinct free TCP ports on 127.0.0.1, none of them in `exclude` (all held open at once, so none is handed out twice). */
export async function freePorts(count: number, exclude: number[] = []): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const srv = net.createServer();
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
      servers.push(srv);
      const { port } = srv.address() as net.AddressInfo;
      if (!exclude.includes(port)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
