import { dependencyUnavailable } from '../errors';
import type { RedisCommands } from '../storage/redis-connection';
import type { StorageKeys } from '../storage/storage-keys';

/** What the lender receives (webhook body plus its id) and reads through the catch-up call. */
export interface WebhookEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface DeliveryState {
  status: 'pending' | 'delivered' | 'failed';
  /** Delivery attempts since the event was appended (or last sent again by hand). */
  attempts: number;
  lastError: string | null;
  lastAttemptAt: number | null;
  deliveredAt: number | null;
  failedAt: number | null;
}

export interface LoggedEvent {
  event: WebhookEvent;
  /** The exact body bytes every attempt sends (and signs). */
  body: string;
  /** When the verification changed state (the event's timestamp), ms. */
  changedAt: number;
  delivery: DeliveryState;
}

export type DeliveryUpdate =
  { op: 'delivered' } | { op: 'attempt_failed'; error: string } | { op: 'dead'; error: string };

/**
 * The durable, ordered log of webhook events and their delivery state. Appending is idempotent by
 * event id; every operation is one atomic step (one Lua script over keys sharing the `{events}` hash
 * tag on Redis, so it works on a Cluster). Entries older than the retention period are dropped.
 */
export interface EventLog {
  /** Appends unless an event with this id exists; returns the event's delivery state either way. */
  append(
    event: WebhookEvent,
    body: string,
    changedAt: number,
  ): Promise<{ created: boolean; delivery: DeliveryState }>;
  read(id: string): Promise<LoggedEvent | undefined>;
  /** Events after the cursor (exclusive), oldest first; `next` continues from the last one returned. */
  page(after: string | undefined, limit: number): Promise<{ items: WebhookEvent[]; next: string }>;
  /** Counts one more attempt; undefined when the event is gone. */
  beginAttempt(id: string): Promise<number | undefined>;
  update(id: string, update: DeliveryUpdate): Promise<void>;
  /** Dead letters, newest first. */
  deadLetters(limit: number): Promise<LoggedEvent[]>;
  /** Makes a delivered or dead event pending again with a fresh attempt count. */
  requeue(id: string): Promise<'requeued' | 'pending' | 'unknown'>;
  /** Removes these events and their delivery state (a deleted verification's). */
  remove(ids: string[]): Promise<void>;
}

const NEW_DELIVERY: DeliveryState = {
  status: 'pending',
  attempts: 0,
  lastError: null,
  lastAttemptAt: null,
  deliveredAt: null,
  failedAt: null,
};

/** The cursor is a decimal sequence number: above every earlier one, even after the log expired empty. */
const nextSeq = (previous: number, now: number) => Math.max(previous + 1, now * 1000);

// KEYS: log (zset seq->id), at (zset append time->id), data (hash id->"changedAt body"), delivery (hash id->json), dead (zset).
// ARGV: id, body, now, retentionMs, initial delivery json. The next sequence number comes from the
// log itself (its highest score), so there is no counter key to outlive the events.
const APPEND = `
local existing = redis.call('HGET', KEYS[4], ARGV[1])
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return {0, existing or ''} end
local now = tonumber(ARGV[3])
local keep = tonumber(ARGV[4])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', now - keep), 'LIMIT', 0, 100)
for _, id in ipairs(old) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
local last = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local previous = tonumber(last[2] or '0')
local seq = string.format('%.0f', math.max(previous + 1, now * 1000))
redis.call('ZADD', KEYS[1], seq, ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], keep) end
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('PEXPIRE', KEYS[5], keep) end
return {1, ARGV[5]}`;

// KEYS: log, at, data, delivery, dead. ARGV: ids.
const REMOVE = `
for _, id in ipairs(ARGV) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
return 1`;

// KEYS: log, data, delivery. ARGV: after, limit. Returns id, seq, data triples.
const PAGE = `
local found = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #found, 2 do
  out[#out + 1] = found[i]
  out[#out + 1] = string.format('%.0f', tonumber(found[i + 1]))
  out[#out + 1] = redis.call('HGET', KEYS[2], found[i]) or ''
end
return out`;

// KEYS: data, delivery. ARGV: id.
const READ = `
local data = redis.call('HGET', KEYS[1], ARGV[1])
if not data then return false end
return {data, redis.call('HGET', KEYS[2], ARGV[1]) or ''}`;

// KEYS: delivery, dead. ARGV: id, op, now, error, retentionMs.
const UPDATE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local d = cjson.decode(raw)
local now = tonumber(ARGV[3])
local result = 'ok'
if ARGV[2] == 'begin' then
  d.attempts = (d.attempts or 0) + 1
  d.lastAttemptAt = now
  result = d.attempts
elseif ARGV[2] == 'delivered' then
  d.status = 'delivered'
  d.deliveredAt = now
  d.lastError = cjson.null
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif ARGV[2] == 'attempt_failed' then
  d.lastError = ARGV[4]
elseif ARGV[2] == 'dead' then
  d.status = 'failed'
  d.lastError = ARGV[4]
  d.failedAt = now
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
elseif ARGV[2] == 'requeue' then
  if d.status == 'pending' then return 'pending' end
  d.status = 'pending'
  d.attempts = 0
  d.failedAt = cjson.null
  redis.call('ZREM', KEYS[2], ARGV[1])
  result = 'requeued'
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(d))
return result`;

// KEYS: dead, data, delivery. ARGV: limit. Returns id, data, delivery triples.
const DEAD = `
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local out = {}
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[2], id)
  if data then
    out[#out + 1] = id
    out[#out + 1] = data
    out[#out + 1] = redis.call('HGET', KEYS[3], id) or ''
  end
end
return out`;

const encodeData = (changedAt: number, body: string) => `${changedAt} ${body}`;

function decode(id: string, data: string, delivery: string): LoggedEvent {
  const space = data.indexOf(' ');
  const body = data.slice(space + 1);
  const parsed = JSON.parse(body) as Omit<WebhookEvent, 'id'>;
  const state = delivery ? (JSON.parse(delivery) as Partial<DeliveryState>) : {};
  return {
    event: { id, type: parsed.type, timestamp: parsed.timestamp, data: parsed.data },
    body,
    changedAt: Number(data.slice(0, space)),
    delivery: { ...NEW_DELIVERY, ...state, lastError: state.lastError ?? null },
  };
}

export interface EventLogSettings {
  retentionMs: number;
  clock: () => number;
}

/** The event log on Redis (single node or Cluster: its keys share one hash tag). */
export function createRedisEventLog(
  redis: RedisCommands,
  keys: StorageKeys,
  settings: EventLogSettings,
): EventLog {
  const k = keys.events;
  const call = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      throw dependencyUnavailable(err);
    }
  };
  const update = (id: string, op: string, error = '') =>
    call(() =>
      redis.eval(UPDATE, {
        keys: [k('delivery'), k('dead')],
        arguments: [
          id,
          op,
          String(settings.clock()),
          error,
          String(Math.max(1, Math.round(settings.retentionMs))),
        ],
      }),
    );

  return {
    append: (event, body, changedAt) =>
      call(async () => {
        const [created, delivery] = (await redis.eval(APPEND, {
          keys: [k('log'), k('at'), k('data'), k('delivery'), k('dead')],
          arguments: [
            event.id,
            encodeData(changedAt, body),
            String(settings.clock()),
            String(Math.max(1, Math.round(settings.retentionMs))),
            JSON.stringify(NEW_DELIVERY),
          ],
        })) as [number, string];
        return {
          created: created === 1,
          delivery: { ...NEW_DELIVERY, ...(delivery ? JSON.parse(delivery) : {}) },
        };
      }),
    read: (id) =>
      call(async () => {
        const found = (await redis.eval(READ, { keys: [k('data'), k('delivery')], arguments: [id] })) as
          [string, string] | null;
        return found ? decode(id, found[0], found[1]) : undefined;
      }),
    page: (after, limit) =>
      call(async () => {
        const flat = (await redis.eval(PAGE, {
          keys: [k('log'), k('data'), k('delivery')],
          arguments: [after ?? '0', String(limit)],
        })) as string[];
        const items: WebhookEvent[] = [];
        let next = after ?? '0';
        for (let i = 0; i < flat.length; i += 3) {
          next = flat[i + 1] as string;
          if (flat[i + 2]) items.push(decode(flat[i] as string, flat[i + 2] as string, '').event);
        }
        return { items, next };
      }),
    beginAttempt: async (id) => {
      const attempts = await update(id, 'begin');
      return typeof attempts === 'number' ? attempts : undefined;
    },
    update: async (id, change) => {
      await update(id, change.op, 'error' in change ? change.error : '');
    },
    deadLetters: (limit) =>
      call(async () => {
        const flat = (await redis.eval(DEAD, {
          keys: [k('dead'), k('data'), k('delivery')],
          arguments: [String(limit)],
        })) as string[];
        const out: LoggedEvent[] = [];
        for (let i = 0; i < flat.length; i += 3)
          out.push(decode(flat[i] as string, flat[i + 1] as string, flat[i + 2] as string));
        return out;
      }),
    requeue: async (id) => {
      const result = await update(id, 'requeue');
      return result === 'requeued' || result === 'pending' ? result : 'unknown';
    },
    remove: (ids) =>
      call(async () => {
        if (ids.length === 0) return;
        await redis.eval(REMOVE, {
          keys: [k('log'), k('at'), k('data'), k('delivery'), k('dead')],
          arguments: ids,
        });
      }),
  };
}

/** The event log of the embedded development mode: the same contract, in this process. */
export function createMemoryEventLog(settings: EventLogSettings): EventLog {
  interface Entry {
    seq: number;
    appendedAt: number;
    data: string;
    delivery: DeliveryState;
  }
  const entries = new Map<string, Entry>();
  let seq = 0;
  const trim = () => {
    const oldest = settings.clock() - settings.retentionMs;
    for (const [id, entry] of entries) if (entry.appendedAt <= oldest) entries.delete(id);
  };
  const logged = (id: string, entry: Entry) => decode(id, entry.data, JSON.stringify(entry.delivery));

  return {
    async append(event, body, changedAt) {
      const existing = entries.get(event.id);
      if (existing) return { created: false, delivery: { ...existing.delivery } };
      trim();
      const now = settings.clock();
      seq = nextSeq(seq, now);
      const delivery = { ...NEW_DELIVERY };
      entries.set(event.id, { seq, appendedAt: now, data: encodeData(changedAt, body), delivery });
      return { created: true, delivery: { ...delivery } };
    },
    async read(id) {
      const entry = entries.get(id);
      return entry ? logged(id, entry) : undefined;
    },
    async page(after, limit) {
      const from = Number(after ?? '0');
      const found = [...entries.entries()]
        .filter(([, e]) => e.seq > from)
        .sort((a, b) => a[1].seq - b[1].seq)
        .slice(0, limit);
      const last = found[found.length - 1];
      return {
        items: found.map(([id, e]) => logged(id, e).event),
        next: last ? String(last[1].seq) : (after ?? '0'),
      };
    },
    async beginAttempt(id) {
      const entry = entries.get(id);
      if (!entry) return undefined;
      entry.delivery.attempts++;
      entry.delivery.lastAttemptAt = settings.clock();
      return entry.delivery.attempts;
    },
    async update(id, change) {
      const d = entries.get(id)?.delivery;
      if (!d) return;
      if (change.op === 'delivered')
        Object.assign(d, { status: 'delivered', deliveredAt: settings.clock(), lastError: null });
      else if (change.op === 'attempt_failed') d.lastError = change.error;
      else Object.assign(d, { status: 'failed', lastError: change.error, failedAt: settings.clock() });
    },
    async deadLetters(limit) {
      return [...entries.entries()]
        .filter(([, e]) => e.delivery.status === 'failed')
        .sort((a, b) => (b[1].delivery.failedAt ?? 0) - (a[1].delivery.failedAt ?? 0))
        .slice(0, limit)
        .map(([id, e]) => logged(id, e));
    },
    async requeue(id) {
      const d = entries.get(id)?.delivery;
      if (!d) return 'unknown';
      if (d.status === 'pending') return 'pending';
      Object.assign(d, { status: 'pending', attempts: 0, failedAt: null });
      return 'requeued';
    },
    async remove(ids) {
      for (const id of ids) entries.delete(id);
    },
  };
}
