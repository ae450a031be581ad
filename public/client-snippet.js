// Copyable client for the income-verification BFF. Same origin only: the BFF's session cookie is
// what ties the popup's bank connection to this page, and no token ever reaches the browser.
async function verifyIncome({ iban, language, onStatus = () => {} } = {}) {
  // Open the window before any await: browsers only allow popups directly inside a click.
  const popup = window.open('', 'finx-widget', 'width=480,height=720');
  if (!popup) throw Object.assign(new Error('Popup blocked'), { code: 'popup_blocked' });
  const request = async (method, body) => {
    const res = await fetch('/api/verification', {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(data.error?.message || `HTTP ${res.status}`), data.error);
    return { data, retryAfter: Number(res.headers.get('Retry-After')) };
  };
  const body = {};
  if (iban) body.iban = String(iban).replace(/\s+/g, '');
  if (language) body.language = language;
  try {
    const { data: created } = await request('POST', body);
    popup.location.replace(created.location);
    let last;
    for (;;) {
      const { data, retryAfter } = await request('GET');
      if (data.status !== last) onStatus((last = data.status), data);
      // A window closed while still awaiting_user means nobody will finish this flow.
      if (
        !['awaiting_user', 'processing'].includes(data.status) ||
        (popup.closed && data.status === 'awaiting_user')
      )
        return data;
      // The server says when asking again is useful; it rate-limits the bank side anyway.
      await new Promise((r) => setTimeout(r, Math.min(retryAfter > 0 ? retryAfter : 2, 10) * 1000));
    }
  } finally {
    if (!popup.closed) popup.close();
  }
}
window.verifyIncome = verifyIncome;
