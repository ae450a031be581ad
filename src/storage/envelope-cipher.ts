import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A 32-byte AES key and the id written into every envelope it seals (so keys can rotate). */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/**
 * AES-256-GCM envelopes for data at rest: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts).
 * The key id lets keys rotate: new writes use the current key, reads accept the previous ones.
 * `context` (the Redis key name) is bound as additional data, so a ciphertext copied to another
 * verification's key does not decrypt.
 */
export interface EnvelopeCipher {
  seal(plaintext: string, context: string): string;
  /** Throws EnvelopeError when the envelope is malformed, tampered with, or sealed with an unknown key. */
  open(envelope: string, context: string): string;
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

export function createEnvelopeCipher(current: EncryptionKey, previous: EncryptionKey[] = []): EnvelopeCipher {
  const keys = new Map<string, Buffer>([...previous, current].map((k) => [k.id, k.key]));
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        'v1',
        current.id,
        iv.toString('base64url'),
        tag.toString('base64url'),
        ciphertext.toString('base64url'),
      ].join('.');
    },
    open(envelope, context) {
      const parts = envelope.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new EnvelopeError('not an envelope');
      const [, keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string];
      const key = keys.get(keyId);
      if (!key) throw new EnvelopeError(`unknown key id "${keyId}"`);
      try {
        // A fixed tag length: without it GCM would accept a tag truncated to as little as 4 bytes.
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
          authTagLength: 16,
        });
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new EnvelopeError('envelope does not authenticate');
      }
    },
  };
}
