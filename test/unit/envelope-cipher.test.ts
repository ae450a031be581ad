import { randomBytes } from 'node:crypto';
import { createEnvelopeCipher, EnvelopeError } from '../../src/storage/envelope-cipher';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const context = 'bff:{v:abc}:tokens';

describe('envelope cipher', () => {
  it('seals with the current key id and opens what it sealed', () => {
    const cipher = createEnvelopeCipher(k1);
    const sealed = cipher.seal('{"accessToken":"secret-value"}', context);
    expect(sealed).toMatch(/^v1\.k1\./);
    expect(sealed).not.toContain('secret-value');
    expect(cipher.open(sealed, context)).toBe('{"accessToken":"secret-value"}');
  });

  it('never produces the same envelope twice for the same plaintext', () => {
    const cipher = createEnvelopeCipher(k1);
    expect(cipher.seal('same', context)).not.toBe(cipher.seal('same', context));
  });

  it('refuses a tag truncated to 12, 8 or 4 bytes (B15: the decipher fixes the tag length at 16)', () => {
    const cipher = createEnvelopeCipher(k1);
    const parts = cipher.seal('payload', context).split('.');
    for (const length of [12, 8, 4]) {
      const truncated = [...parts];
      truncated[3] = Buffer.from(parts[3] as string, 'base64url')
        .subarray(0, length)
        .toString('base64url');
      expect(() => cipher.open(truncated.join('.'), context)).toThrow(EnvelopeError);
    }
  });

  it('refuses tampered ciphertext, tag or iv', () => {
    const cipher = createEnvelopeCipher(k1);
    const parts = cipher.seal('payload', context).split('.');
    for (const index of [2, 3, 4]) {
      const tampered = [...parts];
      const bytes = Buffer.from(tampered[index] as string, 'base64url');
      bytes[0] = (bytes[0] as number) ^ 1;
      tampered[index] = bytes.toString('base64url');
      expect(() => cipher.open(tampered.join('.'), context)).toThrow(EnvelopeError);
    }
  });

  it('refuses an envelope copied to another key name', () => {
    const cipher = createEnvelopeCipher(k1);
    const sealed = cipher.seal('payload', context);
    expect(() => cipher.open(sealed, 'bff:{v:other}:tokens')).toThrow('does not authenticate');
  });

  it('refuses an unknown key id', () => {
    const sealed = createEnvelopeCipher(k2).seal('payload', context);
    expect(() => createEnvelopeCipher(k1).open(sealed, context)).toThrow('unknown key id "k2"');
  });

  it('refuses a key id that is known but the wrong key', () => {
    const sealed = createEnvelopeCipher({ id: 'k1', key: randomBytes(32) }).seal('payload', context);
    expect(() => createEnvelopeCipher(k1).open(sealed, context)).toThrow(EnvelopeError);
  });

  it('reads envelopes of a previous key after rotation, and writes with the new one', () => {
    const old = createEnvelopeCipher(k1).seal('payload', context);
    const rotated = createEnvelopeCipher(k2, [k1]);
    expect(rotated.open(old, context)).toBe('payload');
    expect(rotated.seal('payload', context)).toMatch(/^v1\.k2\./);
  });

  it('refuses garbage', () => {
    const cipher = createEnvelopeCipher(k1);
    for (const garbage of ['', 'plain', 'v1.k1.a.b', 'v2.k1.a.b.c', '{"accessToken":"x"}']) {
      expect(() => cipher.open(garbage, context)).toThrow(EnvelopeError);
    }
  });
});
