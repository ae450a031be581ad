import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, envSchema, loadConfig } from '../../src/config';
import { sandboxEnvSchema, sandboxOptionsFromEnv } from '../../src/sandbox/sandbox-config';

// Docker is not needed: these read the files and hold them against what the config code accepts.

type Env = Record<string, string>;
type Service = Record<string, unknown>;

const root = path.join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

const compose = YAML.parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};

/** Compose interpolation as if nothing were set: `${VAR:-default}` and `${VAR-default}` give the default. */
function withDefaults(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (match === '$$') return '$';
      if (op?.endsWith('?'))
        throw new Error(`${name} is required by docker-compose.yml: the demo must run without it`);
      return op?.endsWith('-') ? (arg ?? '') : '';
    },
  );
}

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** A service's environment (map or list form) with interpolations resolved; blank values count as unset. */
function environmentOf(name: string): Env {
  const raw = service(name).environment ?? {};
  const pairs: [string, unknown][] = Array.isArray(raw)
    ? raw.map((entry: string) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, null] : [entry.slice(0, eq), entry.slice(eq + 1)];
      })
    : Object.entries(raw as Record<string, unknown>);
  const env: Env = {};
  for (const [key, value] of pairs) {
    if (value === null || value === undefined) continue;
    const resolved = withDefaults(String(value));
    if (resolved.trim() !== '') env[key] = resolved;
  }
  return env;
}

function commandOf(name: string): string[] {
  const command = service(name).command;
  return typeof command === 'string' ? command.split(/\s+/) : ((command as string[] | undefined) ?? []);
}

/** Published and container ports from short ('127.0.0.1:3000:3000') or long syntax. */
function portsOf(name: string): { published: number; target: number }[] {
  return ((service(name).ports as unknown[] | undefined) ?? []).map((port) => {
    if (typeof port === 'object' && port !== null) {
      const { published, target } = port as { published: unknown; target: unknown };
      return { published: Number(published), target: Number(target) };
    }
    const parts = String(port)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    return { published: Number(parts.at(-2)), target: Number(parts.at(-1)) };
  });
}

function problemsOf(env: Env): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

/**
 * What a problem line asks for, as groups that must all be set, each satisfied by any of its names:
 * "A and B: ..." is [[A], [B]]; "A or B: ..." is [[A, B]].
 */
function requirementsOf(problem: string): string[][] {
  const subject = problem.slice(0, problem.indexOf(':'));
  if (!/^[A-Z][A-Z0-9_]*((?: and | or )[A-Z][A-Z0-9_]*)*$/.test(subject)) {
    throw new Error(`cannot tell which variables this problem is about: ${problem}`);
  }
  return subject.includes(' or ') ? [subject.split(' or ')] : subject.split(' and ').map((name) => [name]);
}

/**
 * The variables NODE_ENV=production requires, read from loadConfig's own problems. Variables that are
 * only required once another is set (FINX_CLIENT_ID with FINX_API_URL) surface by supplying, round by
 * round, the values `supply` has for what was asked, until loadConfig is satisfied or nothing changes.
 */
function requiredInProduction(supply: Env): string[][] {
  const env: Env = { NODE_ENV: 'production' };
  const required: string[][] = [];
  for (;;) {
    let supplied = false;
    for (const group of problemsOf(env).flatMap(requirementsOf)) {
      if (!required.some((known) => known.join() === group.join())) required.push(group);
      for (const name of group) {
        if (supply[name] !== undefined && env[name] !== supply[name]) {
          env[name] = supply[name];
          supplied = true;
        }
      }
    }
    if (!supplied) return required;
  }
}

/** Every variable the server and the sandbox read (the sandbox's schema is part of the server's). */
function configKeys(): string[] {
  return Object.keys(envSchema.shape);
}

const server = environmentOf('server');
const sandbox = environmentOf('sandbox');
const serverInProduction: Env = {
  ...server,
  NODE_ENV: 'production',
  PUBLIC_BASE_URL: 'https://income.example.com',
  // Production refuses plain http towards finX: the demo's sandbox link would be the real https API.
  FINX_API_URL: 'https://api.finx.example',
};

describe('docker-compose.yml: server', () => {
  it('sets every variable NODE_ENV=production requires', () => {
    const required = requiredInProduction(serverInProduction);
    // The derivation itself works: these are required today, whatever else is added later.
    expect(required.flat()).toEqual(
      expect.arrayContaining(['PUBLIC_BASE_URL', 'SESSION_SECRET', 'FINX_CLIENT_ID']),
    );
    expect(required.flat().filter((name) => !configKeys().includes(name))).toEqual([]);
    const missing = required.filter((group) => !group.some((name) => server[name] !== undefined));
    expect(missing).toEqual([]);
  });

  it('refuses its shipped secrets in production by name, and passes with real ones', () => {
    expect(problemsOf(serverInProduction)).toEqual([
      expect.stringMatching(/^SESSION_SECRET: a development secret shipped/),
      expect.stringMatching(/^TOKEN_ENCRYPTION_KEY: a development key shipped/),
      expect.stringMatching(/^FINX_CLIENT_SECRET: the sandbox's development secret/),
    ]);
    const withRealSecrets: Env = {
      ...serverInProduction,
      SESSION_SECRET: 's'.repeat(40),
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
      FINX_CLIENT_SECRET: 'issued-by-finx',
    };
    expect(problemsOf(withRealSecrets)).toEqual([]);
    const config = loadConfig(withRealSecrets);
    expect(config.redis?.url).toBe('redis://redis:6379');
    expect(config.provider.baseUrl).toBe('https://api.finx.example');
    expect(config.sandbox).toBeUndefined();
    expect(server.FINX_API_URL).toBe('http://sandbox:4010');
  });

  it('runs the demo as development over http, with Redis, fixed secrets and the compose sandbox', () => {
    expect(server.NODE_ENV).toBe('development');
    const config = loadConfig(server);
    // No warning: no in-process store, no per-process secrets, no embedded sandbox.
    expect(config.warnings).toEqual([]);
    expect(config.publicBaseUrl.origin).toBe('http://localhost:3000');
    expect(portsOf('server')).toContainEqual({ published: 3000, target: config.port });
  });

  it('names only variables the config reads', () => {
    expect(Object.keys(server).filter((name) => !configKeys().includes(name))).toEqual([]);
  });

  it('starts after a healthy Redis and sandbox, from the image default command', () => {
    expect(service('server').depends_on).toMatchObject({
      redis: { condition: 'service_healthy' },
      sandbox: { condition: expect.stringMatching(/^service_(started|healthy)$/) },
    });
    expect(service('server').command).toBeUndefined();
    expect(service('server').build).toBe('.');
  });
});

describe('docker-compose.yml: sandbox', () => {
  const parsed = sandboxEnvSchema.parse(sandbox);

  it('runs the sandbox entry point of the same image, listening on all interfaces', () => {
    expect(service('sandbox').build).toBe(service('server').build);
    expect(service('sandbox').image).toBe(service('server').image);
    expect(commandOf('sandbox')).toEqual(['node', 'dist/sandbox/main.js']);
    expect(parsed.SANDBOX_HOST).toBe('0.0.0.0');
    expect(Object.keys(sandbox).filter((name) => !(name in sandboxEnvSchema.shape))).toEqual([]);
  });

  it('is reached by the server over the compose network and by the browser at its public URL', () => {
    const apiUrl = new URL(server.FINX_API_URL ?? '');
    expect(apiUrl.hostname).toBe('sandbox');
    expect(Number(apiUrl.port)).toBe(parsed.SANDBOX_PORT);

    const publicUrl = new URL(parsed.SANDBOX_PUBLIC_URL ?? '');
    expect(publicUrl.origin).toBe('http://localhost:4010');
    expect(portsOf('sandbox')).toContainEqual({
      published: Number(publicUrl.port),
      target: parsed.SANDBOX_PORT,
    });
    // The server checks widget locations (built from SANDBOX_PUBLIC_URL) against this list.
    expect(loadConfig(server).provider.widgetAllowedOrigins).toContain(publicUrl.origin);
  });

  it("accepts the server's credentials and lets the server's page frame the widget", () => {
    const config = loadConfig(server);
    const options = sandboxOptionsFromEnv(parsed, { clientId: 'unset', clientSecret: 'unset' });
    expect(options.clientId).toBe(config.provider.clientId);
    expect(options.clientSecret).toBe(config.provider.clientSecret);
    const appOrigin = config.publicBaseUrl.origin;
    const frames = (source: string) =>
      source === appOrigin || (source.endsWith(':*') && appOrigin.startsWith(source.slice(0, -1)));
    expect(options.frameAncestors.some(frames)).toBe(true);
  });
});

describe('docker-compose.yml: redis', () => {
  it('keeps an append-only file on a named volume, never evicts (queued jobs), and has a health check', () => {
    const command = commandOf('redis');
    expect(command[command.indexOf('--appendonly') + 1]).toBe('yes');
    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    const volumes = (service('redis').volumes as string[]).map((v) => v.split(':'));
    const data = volumes.find(([, target]) => target === '/data');
    expect(data).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.[0]);
    expect(JSON.stringify((service('redis').healthcheck as { test: unknown }).test)).toMatch(
      /redis-cli.*ping/,
    );
    expect(new URL(server.REDIS_URL ?? '').hostname).toBe('redis');
  });
});

describe('Dockerfile', () => {
  // Continuation lines joined, comments dropped.
  const lines = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const lastFrom = lines.findLastIndex((line) => /^FROM\s/i.test(line));
  const runtime = lines.slice(lastFrom);
  const instruction = (name: string) => runtime.filter((line) => line.toUpperCase().startsWith(`${name} `));

  it('builds in one stage and runs in another with production dependencies only', () => {
    expect(lines.filter((line) => /^FROM\s/i.test(line)).length).toBeGreaterThanOrEqual(2);
    expect(lines.some((line) => /^RUN .*npm run build/.test(line))).toBe(true);
    expect(instruction('RUN').some((line) => /npm ci\b.*--omit=dev/.test(line))).toBe(true);
    expect(instruction('COPY').some((line) => /--from=\S+ .*dist/.test(line))).toBe(true);
    expect(instruction('ENV').some((line) => /NODE_ENV=production/.test(line))).toBe(true);
  });

  it('ships the files the app reads at run time', () => {
    expect(instruction('COPY').some((line) => /^COPY public\b/.test(line))).toBe(true);
    expect(instruction('COPY').some((line) => /^COPY .*\bopenapi\.yaml\b/.test(line))).toBe(true);
  });

  it('runs as a non-root user with a health check on /healthz', () => {
    const user = instruction('USER').at(-1)?.split(/\s+/)[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
    expect(instruction('HEALTHCHECK').at(-1)).toMatch(/\/healthz/);
    expect(instruction('EXPOSE')).toContain('EXPOSE 3000');
    expect(instruction('CMD').at(-1)).toBe('CMD ["node", "dist/server.js"]');
  });
});

describe('.dockerignore', () => {
  it('keeps local state and secrets out of the build context', () => {
    const entries = read('.dockerignore').split(/\r?\n/);
    for (const entry of ['node_modules', 'dist', '.git', 'test-results', 'coverage', '.env']) {
      expect(entries).toContain(entry);
    }
  });
});

describe('.env.example', () => {
  // Assignments start the line, commented out or not ("#PORT=3000"); prose comments have "# ".
  const names = [...read('.env.example').matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);

  it('lists every variable the server and the sandbox read, once', () => {
    expect(configKeys().filter((name) => !names.includes(name))).toEqual([]);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });

  it('lists nothing the config does not read', () => {
    expect(names.filter((name) => !configKeys().includes(name))).toEqual([]);
  });
});
