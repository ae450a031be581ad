import { createHmac } from 'node:crypto';
import { readSignedSessionId } from '../../src/http/session-cookie';

const sign = (sid: string, secret: string) =>
  `s:${sid}.${createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '')}`;
const cookie = (value: string) => `other=1; bff.sid=${encodeURIComponent(value)}; last=2`;

describe('readSignedSessionId (the poll handler reads the express-session cookie)', () => {
  const secrets = ['current-secret-0123456789abcdef0123', 'previous-secret-0123456789abcdef012'];

  it('accepts a cookie signed with the current or a previous secret', () => {
    expect(readSignedSessionId(cookie(sign('abc', secrets[0] as string)), 'bff.sid', secrets)).toBe('abc');
    expect(readSignedSessionId(cookie(sign('abc', secrets[1] as string)), 'bff.sid', secrets)).toBe('abc');
  });

  it.each([
    ['no header', undefined],
    ['no such cookie', 'other=1'],
    ['unsigned', cookie('abc')],
    ['another secret', cookie(sign('abc', 'some-other-secret'))],
    ['tampered id', cookie(sign('abc', 'current-secret-0123456789abcdef0123').replace('abc', 'abd'))],
    ['truncated signature', cookie(sign('abc', 'current-secret-0123456789abcdef0123').slice(0, -2))],
    ['no dot', cookie('s:abc')],
    ['bad percent-encoding', 'bff.sid=%E0%A4%A'],
  ])('refuses %s', (_name, header) => {
    expect(readSignedSessionId(header, 'bff.sid', secrets)).toBeUndefined();
  });
});
