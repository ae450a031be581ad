import helmet from 'helmet';
import { securityHeaderList } from '../../src/http/security-headers';

/** What helmet 8 sets with the options the app used before the list was written out. */
function helmetHeaders(widgetOrigins: string[], https: boolean): string[] {
  const set: string[] = [];
  const middleware = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameSrc: widgetOrigins,
        formAction: ["'self'", ...widgetOrigins],
        frameAncestors: ["'self'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    crossOriginOpenerPolicy: { policy: 'same-origin-allow-popups' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  const res = { setHeader: (n: string, v: string) => set.push(n, v), removeHeader: () => undefined };
  middleware({} as never, res as never, () => undefined);
  return set;
}

describe('securityHeaderList', () => {
  it.each([
    [['http://127.0.0.1:4010'], false],
    [['https://widget.example', 'https://other.example'], true],
  ])('is the set helmet sets (widget origins %j, https %s)', (origins, https) => {
    expect(securityHeaderList({ widgetOrigins: origins, https })).toEqual(helmetHeaders(origins, https));
  });
});
