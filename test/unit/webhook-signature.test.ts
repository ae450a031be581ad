import { Webhook } from 'standardwebhooks';
import { decodeWebhookSecret, signWebhook } from '../../src/integrator/webhook-signature';
import { webhookIdFor } from '../../src/integrator/webhook-events';

// The golden vector also printed in the README ("Webhooks"): fixed secret, id, timestamp, and a body
// with non-ASCII text, so a receiver in any language can check its verification against it.
const GOLDEN = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
  timestamp: 1796119200,
  body: '{"type":"verification.ready","timestamp":"2026-12-01T10:00:00.000Z","data":{"id":"ver_q3mK7cN1xY5tR8wB2vZ4aQ","reference":"app-123","status":"ready","error":null},"note":"Grüße aus Köln – ✓"}',
  signature: 'v1,+iaPLQaCEmQymMec5HfSHeIIOYS1vumDtZiCEC1USQU=',
};
const OLD = 'whsec_' + Buffer.alloc(32, 3).toString('base64');

describe('webhook signatures (Standard Webhooks v1)', () => {
  it('signs the golden vector to the pinned value, the same as the standardwebhooks package', () => {
    const key = decodeWebhookSecret(GOLDEN.secret) as Buffer;
    expect(key).toHaveLength(24);
    const ours = signWebhook([key], GOLDEN.id, GOLDEN.timestamp, Buffer.from(GOLDEN.body, 'utf8'));
    expect(ours).toBe(GOLDEN.signature);
    expect(new Webhook(GOLDEN.secret).sign(GOLDEN.id, new Date(GOLDEN.timestamp * 1000), GOLDEN.body)).toBe(
      ours,
    );
  });

  it('signs with every key, space-separated, and the package verifies with either secret', () => {
    const keys = [decodeWebhookSecret(GOLDEN.secret) as Buffer, decodeWebhookSecret(OLD) as Buffer];
    const now = Math.floor(Date.now() / 1000);
    const header = signWebhook(keys, GOLDEN.id, now, Buffer.from(GOLDEN.body));
    expect(header.split(' ')).toHaveLength(2);
    const headers = {
      'webhook-id': GOLDEN.id,
      'webhook-timestamp': String(now),
      'webhook-signature': header,
    };
    expect(new Webhook(GOLDEN.secret).verify(GOLDEN.body, headers)).toMatchObject({
      note: 'Grüße aus Köln – ✓',
    });
    expect(new Webhook(OLD).verify(GOLDEN.body, headers)).toMatchObject({ type: 'verification.ready' });
    const stranger = 'whsec_' + Buffer.alloc(32, 4).toString('base64');
    expect(() => new Webhook(stranger).verify(GOLDEN.body, headers)).toThrow(/No matching signature/);
  });

  it('takes only whsec_ secrets of 24 to 64 bytes', () => {
    expect(decodeWebhookSecret('whsec_' + Buffer.alloc(24).toString('base64'))).toHaveLength(24);
    expect(decodeWebhookSecret('whsec_' + Buffer.alloc(64).toString('base64'))).toHaveLength(64);
    expect(decodeWebhookSecret('whsec_' + Buffer.alloc(23).toString('base64'))).toBeUndefined();
    expect(decodeWebhookSecret('whsec_' + Buffer.alloc(65).toString('base64'))).toBeUndefined();
    expect(decodeWebhookSecret(Buffer.alloc(32).toString('base64'))).toBeUndefined();
    expect(decodeWebhookSecret('whsec_not base64!')).toBeUndefined();
  });

  it('derives one webhook id per verification and outcome', () => {
    const id = webhookIdFor('ver_q3mK7cN1xY5tR8wB2vZ4aQ', 'ready');
    expect(id).toMatch(/^msg_[0-9A-Z]{26}$/);
    expect(webhookIdFor('ver_q3mK7cN1xY5tR8wB2vZ4aQ', 'ready')).toBe(id);
    expect(webhookIdFor('ver_q3mK7cN1xY5tR8wB2vZ4aQ', 'failed')).not.toBe(id);
    expect(webhookIdFor('ver_q3mK7cN1xY5tR8wB2vZ4aR', 'ready')).not.toBe(id);
  });
});
