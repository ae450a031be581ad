import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedisStore } from 'connect-redis';
import { MemoryStore, type Store } from 'express-session';
import type { Logger } from 'pino';
import { createApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { createProviderClient } from './provider/provider-client';
import { startSandbox, type Sandbox } from './sandbox/sandbox-server';
import { createEnvelopeCipher } from './storage/envelope-cipher';
import type { KeyValueStore } from './storage/key-value-store';
import { createMemoryKeyValueStore } from './storage/memory-key-value-store';
import { connectRedis, type RedisConnection } from './storage/redis-connection';
import { createRedisKeyValueStore } from './storage/redis-key-value-store';
import { createStorageKeys } from './storage/storage-keys';
import type { Telemetry } from './telemetry';
import { createMetrics } from './metrics';
import { metricsRoutes } from './http/metrics-routes';
import { openapiRoutes } from './http/openapi-routes';
import { createTokenService } from './tokens/token-service';
import { createTokenStore } from './tokens/token-store';
import { createFlowStore } from './verification/flow-store';
import { createOwnerIndex } from './verification/owner-index';
import { createVerificationReader } from './verification/read-verification';
import { createReportPathMonitor } from './verification/report-path-monitor';
import type { VerificationDeps } from './verification/verification-deps';
import { createVerificationStore } from './verification/verification-store';
import { createStartTickets } from './verification/start-tickets';
import { createBullmqJobQueue } from './jobs/bullmq-job-queue';
import { instrumented, type JobQueue } from './jobs/job-queue';
import { integratorRoutes } from './http/integrator-routes';
import { createIdempotency } from './integrator/idempotency';
import { createLenderVerifications } from './integrator/lender-verifications';
import { createMemoryJobQueue } from './jobs/memory-job-queue';
import { verificationProcessors } from './jobs/verification-job';
import { checkRedisDurability } from './storage/redis-durability';
import { createMemoryEventLog, createRedisEventLog, type EventLog } from './integrator/event-log';
import { createWebhookAdmin } from './integrator/webhook-admin';
import { createWebhookClient } from './integrator/webhook-client';
import { webhookIdsOf } from './integrator/webhook-events';
import {
  createAnnouncer,
  createSettledHook,
  webhookProcessors,
  type WebhookEndpoint,
} from './jobs/webhook-job';
import { keepAliveJob, ongoingAccessProcessors } from './jobs/ongoing-access-job';
import type { VerificationMeta } from './verification/verification-store';
import { createMemoryChangeNotifier, type ChangeNotifier } from './verification/change-notifier';
import { createRedisChangeNotifier } from './storage/redis-change-notifier';
import { WaitingPolls } from './http/waiting-polls';
import { createPollViews } from './http/poll-view';
import type { RateCounter } from './http/rate-limit';
import { browserVerifications } from './verification/browser-verifications';
import { createReportStore } from './verification/report-store';
import { AppError, statusForCode } from './errors';
import { rawErrorAnswer } from './http/error-answer';

const REFRESH_TOKEN_LIFETIME_MS = 90 * 24 * 3600 * 1000;

export interface Runtime {
  /** The whole request handler (fast poll path, then Express). */
  app: http.RequestListener;
  config: Config;
  deps: VerificationDeps;
  /** The embedded sandbox, when FINX_API_URL is unset. */
  sandbox: Sandbox | undefined;
  redis: RedisConnection | undefined;
  kv: KeyValueStore;
  jobs: JobQueue;
  /** The webhook event log (catch-up reads it; deliveries send from it). */
  events: EventLog;
  /** Polls held under `Prefer: wait`. */
  waiting: WaitingPolls;
  /** Shutdown, first step: answers every held poll now and holds no more. Returns how many were held. */
  releaseWaiting(): number;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: Logger;
  telemetry?: Telemetry;
  clock?: () => number;
  /** Reuse an already running sandbox instead of starting the embedded one. */
  sandbox?: Sandbox;
  /** Wraps the verification job's `settled` collaborator (tests simulate a crash right after the state change). */
  interceptSettled?: (settled: Settled) => Settled;
}

type Settled = (verificationId: string, meta: VerificationMeta) => Promise<void>;

/** The composition root: builds every collaborator from the configuration. Does not listen. */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const telemetry = options.telemetry ?? metrics;
  const clock = options.clock ?? Date.now;
  for (const warning of config.warnings) logger.warn(warning);

  let sandbox = options.sandbox;
  let ownsSandbox = false;
  if (!config.provider.baseUrl && !sandbox && config.sandbox) {
    sandbox = await startSandbox(config.sandbox.options, {
      port: config.sandbox.port,
      host: config.sandbox.host,
      ...(config.sandbox.publicUrl ? { publicUrl: config.sandbox.publicUrl } : {}),
    });
    ownsSandbox = true;
    logger.warn(
      { url: sandbox.url },
      'FINX_API_URL is not set: using the embedded sandbox provider (no real bank data)',
    );
  }
  const baseUrl = config.provider.baseUrl ?? sandbox?.url;
  if (!baseUrl) throw new ConfigError(['FINX_API_URL: no provider URL and no sandbox']);
  const widgetAllowedOrigins = config.provider.widgetAllowedOrigins ?? [
    new URL(sandbox?.url ?? baseUrl).origin,
  ];

  const redis = config.redis ? await connectRedis(config.redis, logger) : undefined;
  const kv = redis ? createRedisKeyValueStore(redis.commands) : createMemoryKeyValueStore();
  const keys = createStorageKeys(config.keyPrefix);
  const sessionStore: Store = redis
    ? new RedisStore({
        client: redis.sessionClient,
        prefix: keys.sessionPrefix,
        ttl: config.session.ttlS,
        disableTouch: true,
      })
    : new MemoryStore();

  const provider = createProviderClient({ ...config.provider, baseUrl }, telemetry.providerCall);
  const cipher = createEnvelopeCipher(config.encryption.current, config.encryption.previous);
  const retentionMs = config.retentionS * 1000;
  const tokenStore = createTokenStore({
    kv,
    keys,
    cipher,
    ttlMs: Math.min(retentionMs, REFRESH_TOKEN_LIFETIME_MS),
    clock,
  });
  const tokens = createTokenService({
    kv,
    keys,
    store: tokenStore,
    provider,
    logger,
    telemetry,
    clock,
    refreshSkewMs: config.tokens.refreshSkewS * 1000,
    lockLeaseMs: config.tokens.lockLeaseMs,
    lockWaitMs: config.tokens.lockWaitMs,
    defaultLifetimeS: config.provider.defaultTokenLifetimeS,
  });
  const jobs: JobQueue = config.redis
    ? createBullmqJobQueue(
        {
          redis: config.redis,
          keyPrefix: config.keyPrefix,
          concurrency: config.jobs.concurrency,
          failedRetentionS: config.retentionS,
          stalledAfterMs: config.jobs.stalledAfterMs,
        },
        logger,
      )
    : createMemoryJobQueue(logger, clock);
  if (redis) await checkRedisDurability(redis.client, logger);
  const changes: ChangeNotifier =
    redis && config.redis
      ? await createRedisChangeNotifier({
          client: redis.client,
          cluster: !!config.redis.clusterNodes,
          keyPrefix: config.keyPrefix,
          logger,
          commandTimeoutMs: config.redis.commandTimeoutMs,
        })
      : createMemoryChangeNotifier();
  const verifications = createVerificationStore({
    kv,
    keys,
    retentionMs,
    maxAccessMs: config.ongoing.maxAccessMs,
    clock,
    changes,
  });
  const reports = createReportStore({ kv, keys, cipher });
  const events = redis
    ? createRedisEventLog(redis.commands, keys, { retentionMs, clock })
    : createMemoryEventLog({ retentionMs, clock });

  const deps: VerificationDeps = {
    kv,
    keys,
    flows: createFlowStore({ kv, keys, ttlMs: config.flow.ttlS * 1000 }),
    tickets: createStartTickets({ kv, keys, clock }),
    verifications,
    reports,
    owners: createOwnerIndex({
      kv,
      keys,
      ttlMs: (config.flow.ttlS + config.report.readyTimeoutS) * 1000 + retentionMs,
    }),
    tokenStore,
    tokens,
    jobs,
    provider,
    cipher,
    clock,
    logger,
    telemetry,
    settings: {
      redirectUri: config.redirectUri,
      widgetAllowedOrigins,
      reportingPeriodMonths: config.provider.reportingPeriodMonths,
      defaultLanguage: config.provider.defaultLanguage,
      flowTtlMs: config.flow.ttlS * 1000,
      retentionMs,
      pollIntervalMs: config.report.pollIntervalMs,
      requireStartTicket: config.tickets.required,
      readyTimeoutMs: config.report.readyTimeoutS * 1000,
      ongoingMaxAccessMs: config.ongoing.maxAccessMs,
      pollLimit: { limit: config.rateLimits.pollsPerSessionPerMinute, windowMs: 60_000 },
    },
    forgetEvents: (verificationId, reportUpdates) =>
      events.remove(webhookIdsOf(verificationId, reportUpdates)),
    reportPaths: createReportPathMonitor({
      alertAfterMs: config.report.pathAlertAfterS * 1000,
      reportPath: config.provider.reportPath,
      logger,
      clock,
      onMisconfigured: () => telemetry.reportPathMisconfigured(),
    }),
  };

  const countRate: RateCounter = (scope, subject, windowMs) =>
    kv.increment(keys.rateLimit(scope, subject), windowMs);

  const webhookEndpoint: WebhookEndpoint = { disabled: false };
  const webhookUrl = config.webhooks.url;
  const webhookClient = webhookUrl
    ? createWebhookClient({
        timeoutMs: config.webhooks.timeoutMs,
        allowPrivate: config.webhooks.allowPrivate,
      })
    : undefined;
  const announce = createAnnouncer({ log: events, jobs, deliver: !!webhookUrl });
  const settledHook: Settled = createSettledHook({ log: events, jobs, deliver: !!webhookUrl });
  const settled = options.interceptSettled ? options.interceptSettled(settledHook) : settledHook;

  metrics.watchQueue(() => jobs.counts());
  jobs.start(
    instrumented(
      {
        ...verificationProcessors({
          verifications,
          tokens,
          provider,
          reports,
          keys,
          clock,
          logger,
          telemetry,
          settings: { pollIntervalMs: config.report.pollIntervalMs, retentionMs },
          reportPaths: deps.reportPaths,
          settled,
          startKeepAlive: (id) => jobs.add(keepAliveJob(id, config.ongoing.keepaliveMs)),
        }),
        ...ongoingAccessProcessors({
          verifications,
          tokens,
          tokenStore,
          provider,
          reports,
          keys,
          clock,
          logger,
          settings: {
            keepaliveMs: config.ongoing.keepaliveMs,
            retentionMs,
            refreshGiveUpMs: config.report.readyTimeoutS * 1000,
          },
          announce,
          forget: (ids) => events.remove(ids),
        }),
        ...(webhookUrl && webhookClient
          ? webhookProcessors({
              log: events,
              client: webhookClient,
              settings: {
                url: webhookUrl,
                keys: config.webhooks.keys,
                scheduleMs: config.webhooks.scheduleMs,
              },
              endpoint: webhookEndpoint,
              clock,
              logger,
              telemetry: metrics,
            })
          : {}),
      },
      (name, outcome) => telemetry.job(name, outcome),
    ),
  );

  const integrator =
    config.integrator.apiKeys.length > 0
      ? integratorRoutes({
          apiKeys: config.integrator.apiKeys,
          perKeyPerMinute: config.integrator.perKeyPerMinute,
          countRate,
          lender: createLenderVerifications(
            deps,
            { publicBaseUrl: config.publicBaseUrl, ticketTtlMs: config.tickets.ttlS * 1000 },
            logger,
          ),
          idempotency: createIdempotency({ kv, keys, cipher }),
          webhooks: createWebhookAdmin({
            log: events,
            jobs,
            endpoint: webhookEndpoint,
            deliver: !!webhookUrl,
            telemetry: metrics,
          }),
          observe: (route, status) => metrics.integratorRequest(route, status),
        })
      : undefined;

  const views = createPollViews(createVerificationReader(deps));
  const waiting = new WaitingPolls(views, { maxWaiting: config.poll.maxWaiting, maxPerSession: 4 }, logger);
  changes.subscribe(waiting);
  const app = createApp({
    logger,
    verifications: browserVerifications(deps),
    views,
    waiting,
    maxWaitS: config.poll.maxWaitS,
    sessionStore,
    session: config.session,
    allowedOrigins: config.allowedOrigins,
    returnUrl: config.returnUrl,
    trustProxy: config.trustProxy,
    rateLimits: config.rateLimits,
    countRate,
    widgetOrigins: widgetAllowedOrigins,
    onStoreError: telemetry.storeError,
    integrator,
    checkReady: async () => {
      await kv.ping();
    },
    extraRoutes: [
      openapiRoutes(),
      ...(config.metrics.enabled ? [metricsRoutes(metrics.registry, config.metrics.token)] : []),
    ],
  });

  return {
    app,
    config,
    deps,
    sandbox,
    redis,
    kv,
    jobs,
    events,
    waiting,
    releaseWaiting: () => waiting.releaseAll(),
    async close() {
      waiting.releaseAll();
      // Every part is closed even when one fails (Redis down: the queue's close may throw); a part
      // left open (a subscriber reconnecting forever) would keep the process alive.
      const failures: unknown[] = [];
      for (const part of [
        () => jobs.close(),
        () => changes.close(),
        () => webhookClient?.close(),
        () => provider.close(),
        () => redis?.close(),
        () => (ownsSandbox ? sandbox?.close() : undefined),
      ]) {
        await Promise.resolve()
          .then(part)
          .catch((err: unknown) => failures.push(err));
      }
      if (failures.length > 0) throw failures[0];
    },
  };
}

export interface HttpServerOptions {
  /** Read when a protocol-level error happens, so it may be set after the server is created. */
  logger?: Logger | undefined;
  /** Whole request, headers and body (HTTP_TIMEOUT_MS); past it: 408. */
  requestTimeoutMs?: number;
  /** Request headers (at most 10 s of HTTP_TIMEOUT_MS); past it: 408. */
  headersTimeoutMs?: number;
}

/** Node's request deadlines; a request that trickles in longer is answered 408 by the clientError handler. */
export function applyHttpTimeouts(
  server: http.Server,
  timeouts: { requestTimeoutMs: number; headersTimeoutMs: number },
): void {
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.headersTimeout = timeouts.headersTimeoutMs;
}

/** Wraps the app in an HTTP server whose protocol-level errors also answer in the JSON error shape. */
export function createHttpServer(app: http.RequestListener, options: HttpServerOptions = {}): http.Server {
  // Node checks the request deadlines on this interval (default 30 s): a deadline is then kept
  // within a second instead of within half a minute.
  const server = http.createServer({ maxHeaderSize: 16 * 1024, connectionsCheckingInterval: 1000 }, app);
  applyHttpTimeouts(server, {
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      options.logger?.warn(
        {
          remoteAddress: (socket as { remoteAddress?: string }).remoteAddress,
          requestTimeoutMs: server.requestTimeout,
        },
        'request not received in time (slow or stalled client): answered 408',
      );
    }
    if (!socket.writable) return socket.destroy();
    const [code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? (['headers_too_large', 'The request headers or URL are too large.'] as const)
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? (['request_timeout', 'The request was not received in time.'] as const)
          : (['invalid_request', 'The request is malformed.'] as const);
    const appError = new AppError(code, message);
    socket.end(
      rawErrorAnswer(appError, http.STATUS_CODES[statusForCode(code)] ?? '', [
        'X-Content-Type-Options',
        'nosniff',
        'Content-Security-Policy',
        "default-src 'none'; frame-ancestors 'none'",
      ]),
    );
  });
  return server;
}

/** Stops accepting connections, lets in-flight requests finish within `deadlineMs`, then closes the rest. */
export function stopHttpServer(server: http.Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const runtime = await createRuntime(config, { logger });
  const server = createHttpServer(runtime.app, { logger, ...config.http });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  logger.info(
    { port, publicBaseUrl: config.publicBaseUrl.toString() },
    `income BFF listening: open ${config.publicBaseUrl.origin}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const released = runtime.releaseWaiting();
    logger.info({ signal, released }, 'shutting down: held polls answered, finishing in-flight requests');
    await stopHttpServer(server, 10_000);
    await runtime.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`fatal: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
