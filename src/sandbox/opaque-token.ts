import { randomBytes, randomInt } from 'node:crypto';

/**
 * A random base64url string of a random length in [minLength, maxLength]. Lengths vary on purpose:
 * the real provider's tokens do, and clients must not assume a fixed size.
 */
export function opaqueToken(minLength: number, maxLength = minLength): string {
  const length = minLength === maxLength ? minLength : randomInt(minLength, maxLength + 1);
  return randomBytes(Math.ceil((length * 3) / 4) + 1)
    .toString('base64url')
    .slice(0, length);
}
