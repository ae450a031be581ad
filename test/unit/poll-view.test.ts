import { createHash, randomBytes } from 'node:crypto';
import { createPollViews } from '../../src/http/poll-view';
import { createEnvelopeCipher } from '../../src/storage/envelope-cipher';
import { createMemoryKeyValueStore } from '../../src/storage/memory-key-value-store';
import { createStorageKeys } from '../../src/storage/storage-keys';
import { createVerificationReader } from '../../src/verification/read-verification';
import { createReportStore } from '../../src/verification/report-store';
import { createVerificationStore, type VerificationMeta } from '../../src/verification/verification-store';

// The poll path's promise: a state's body and ETag are built once, polls between two changes reuse
// them, and a ready report is decrypted once per report version. The store is the in-process one.
function setup() {
  const kv = createMemoryKeyValueStore();
  const keys = createStorageKeys('pv:');
  const cipher = createEnvelopeCipher({ id: 'k1', key: randomBytes(32) });
  const verifications = createVerificationStore({ kv, keys, retentionMs: 60_000 });
  const reports = createReportStore({ kv, keys, cipher });
  const cache = { hit: 0, miss: 0 };
  const reader = createVerificationReader({
    verifications,
    reports,
    clock: Date.now,
    telemetry: { reportCache: (outcome) => cache[outcome]++ },
    settings: { pollIntervalMs: 2500, pollLimit: { limit: 3, windowMs: 60_000 } },
  });
  const meta = (status: VerificationMeta['status'], extra: Partial<VerificationMeta> = {}) => ({
    status,
    flowId: 'flow',
    createdAt: Date.now(),
    awaitingUntil: Date.now() + 60_000,
    ...extra,
  });
  // Written as the report job writes it (a companion of its state change), here on its own.
  const storeReport = (id: string, json: string) => {
    const write = reports.writeOf(id, json, 60_000);
    return kv.set(write.key, write.value as string, write.ttlMs);
  };
  return { views: createPollViews(reader), verifications, meta, storeReport, cache };
}

const etagOf = (body: string | Buffer) =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;

describe('poll views', () => {
  it('build a state once: the same view until the state changes, shared between verifications', async () => {
    const { views, verifications, meta } = setup();
    await verifications.create('a', meta('processing'));
    await verifications.create('b', meta('processing'));
    const first = await views.read('a', 'owner-a');
    expect(first.body.toString()).toBe('{"status":"processing","report":null,"error":null}');
    expect(first.etag).toBe(etagOf(first.body));
    expect(first.retryAfterHeader).toBe('3');
    expect(await views.read('a', 'owner-a')).toBe(first);
    expect(await views.read('b')).toBe(first);

    const failed = { code: 'provider_error', message: 'The bank said “no”.' };
    await verifications.transitionFresh('a', (m) => ({ meta: { ...m, status: 'failed', error: failed } }));
    const after = await views.read('a');
    expect(after.body.toString()).toBe(`{"status":"failed","report":null,"error":${JSON.stringify(failed)}}`);
    expect(after.etag).not.toBe(first.etag);
    expect(after.retryAfterHeader).toBeUndefined();
  });

  it('decrypt a ready report once per report version', async () => {
    const { views, verifications, meta, storeReport, cache } = setup();
    await storeReport('r', '{"income":1}');
    await verifications.create('r', meta('ready', { reportVersion: 'v1' }));
    const ready = await views.read('r');
    expect(ready.body.toString()).toBe('{"status":"ready","report":{"income":1},"error":null}');
    expect(await views.read('r')).toBe(ready);
    expect(cache).toEqual({ hit: 1, miss: 1 });

    await storeReport('r', '{"income":2}');
    await verifications.transitionFresh('r', (m) => ({ meta: { ...m, reportVersion: 'v2' } }));
    const refreshed = await views.read('r');
    expect(refreshed.body.toString()).toBe('{"status":"ready","report":{"income":2},"error":null}');
    expect(refreshed.etag).not.toBe(ready.etag);
    expect(cache).toEqual({ hit: 1, miss: 2 });
  });

  it('answer a state a change message carries without reading it, and a removal as expired', async () => {
    const { views, meta } = setup();
    const held = await views.viewOf('never-stored', JSON.stringify(meta('processing')));
    expect(held.body.toString()).toBe('{"status":"processing","report":null,"error":null}');
    const gone = await views.viewOf('never-stored', null);
    expect(JSON.parse(gone.body.toString())).toMatchObject({
      status: 'expired',
      error: { code: 'verification_expired' },
    });
    expect((await views.read(undefined)).body.toString()).toBe(
      '{"status":"none","report":null,"error":null}',
    );
  });

  it('count polls by owner and refuse past the limit', async () => {
    const { views, verifications, meta } = setup();
    await verifications.create('c', meta('processing'));
    for (let i = 0; i < 3; i++) await views.read('c', 'owner-c');
    await expect(views.read('c', 'owner-c')).rejects.toMatchObject({ code: 'rate_limited' });
    // Not counted: another owner, or a read without one (a re-read of a held poll).
    await expect(views.read('c', 'owner-d')).resolves.toBeDefined();
    await expect(views.read('c')).resolves.toBeDefined();
  });
});
