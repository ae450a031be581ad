/** The configured return URL (a path or an absolute URL) with our own outcome parameters added. */
export function returnLocation(returnUrl: string, params: Record<string, string>): string {
  const placeholder = 'http://placeholder.invalid';
  const target = new URL(returnUrl, placeholder);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  return target.origin === placeholder ? target.pathname + target.search + target.hash : target.toString();
}
