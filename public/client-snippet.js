// Copyable client for the income-verification BFF. Same origin only: the BFF's session cookie is
// what ties the popup's bank connection to this page, and no token ever reaches the browser.
async function verifyIncome({ iban, language, onStatus = () => {} } = {}) {
  // Open the window before any await: browsers only allow popups directly inside a click.
  const popup = window.open('', 'finx-widget', 'width=480,height=720');
  if (!popup) throw Object.assign(new Error('Popup blocked'), { code: 'popup_blocked' });
  // A poll held at the server ends early when the window closes, so a closed window is noticed.
  const closed = new AbortController();
  const watch = setInterval(() => popup.closed && closed.abort(), 1000);
  const request = async (method, body, headers = {}) => {
    const res = await fetch('/api/verification', {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body ? { 'Content-Type': 'application/json' } : headers,
      body: body ? JSON.stringify(body) : undefined,
      signal: method === 'GET' && !closed.signal.aborted ? closed.signal : undefined,
    });
    const data = res.status === 304 ? null : await res.json().catch(() => ({}));
    if (!res.ok && res.status !== 304)
      throw Object.assign(new Error(data.error?.message || `HTTP ${res.status}`), data.error);
    return { data, res };
  };
  const body = {};
  if (iban) body.iban = String(iban).replace(/\s+/g, '');
  if (language) body.language = language;
  try {
    const { data: created } = await request('POST', body);
    popup.location.replace(created.location);
    let last, etag, data;
    let lost = 0;
    for (;;) {
      // With the current ETag and Prefer: wait, the server answers when the state changes (or 304
      // after the wait); a server that did not hold the poll says no Preference-Applied.
      const asked = etag ? { Prefer: 'wait=25', 'If-None-Match': etag } : {};
      const answer = await request('GET', undefined, asked).catch((err) => {
        if (err.name === 'AbortError') return request('GET');
        throw err;
      });
      const changed = answer.data !== null && answer.res.headers.get('ETag') !== etag;
      if (answer.data !== null) [data, etag] = [answer.data, answer.res.headers.get('ETag')];
      // The callback renews the session cookie just after it records the outcome: a request sent in
      // between carries the old cookie and finds nothing. Ask again shortly before believing it.
      if (data.status === 'none' && last && lost++ < 6) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (data.status !== last) onStatus((last = data.status), data);
      // A window closed while still awaiting_user means nobody will finish this flow.
      if (
        !['awaiting_user', 'processing'].includes(data.status) ||
        (popup.closed && data.status === 'awaiting_user')
      )
        return data;
      if (changed || answer.res.headers.has('Preference-Applied')) continue;
      // The server says when asking again is useful; it rate-limits the bank side anyway.
      const retryAfter = Number(answer.res.headers.get('Retry-After'));
      await new Promise((r) => setTimeout(r, Math.min(retryAfter > 0 ? retryAfter : 2, 10) * 1000));
    }
  } finally {
    clearInterval(watch);
    if (!popup.closed) popup.close();
  }
}
window.verifyIncome = verifyIncome;
