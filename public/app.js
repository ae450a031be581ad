// Demo frontend of the income-verification BFF.
// Runs under a strict CSP: no inline code, no innerHTML; every node is built with createElement(NS).
(() => {
  'use strict';

  const POPUP_NAME = 'finx-widget';
  const MESSAGE_TYPE = 'finx-verification';
  const ACTIVE = new Set(['awaiting_user', 'processing']);
  // Every key the provider documents for the widget's message query (`abort` is the newest docs' `cancel`).
  const CALLBACK_KEYS = ['state', 'success', 'cancel', 'abort', 'code', 'flow_id'];
  const OUTCOMES = new Set(['completed', 'cancelled', 'failed']);
  const POLL_DEFAULT_S = 2;
  const POLL_MIN_S = 0.5;
  const POLL_MAX_S = 10;
  /** Seconds the server may hold a poll (it caps this at POLL_MAX_WAIT_S). */
  const POLL_WAIT_S = 25;
  const LOST_POLL_RETRIES = 6;
  const MAX_POLL_FAILURES = 5;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const STATUS_TEXT = {
    starting: 'Opening your bank connection…',
    awaiting_user: 'Waiting for you to finish at your bank…',
    processing: 'Preparing your income report…',
    ready: 'Your income report is ready.',
    cancelled: 'You cancelled the bank connection.',
    closed: 'The window was closed before you finished connecting your bank.',
    deleted: 'Your data has been deleted. You can start a new verification at any time.',
  };

  const GENERIC_ERROR = 'Something went wrong while verifying your income. Please try again.';

  // Codes are matched loosely (the server owns them); anything unknown gets the generic text.
  const ERROR_TEXT = {
    network_error: 'We could not reach the server. Check your internet connection and try again.',
    popup_blocked:
      'Your browser blocked the popup window. Allow popups for this site, or choose “Full page”.',
    invalid_response: 'The server sent an unexpected answer. Please try again.',
    access_denied: 'Access to your bank account was not granted.',
    user_cancelled: STATUS_TEXT.cancelled,
    cancelled: STATUS_TEXT.cancelled,
    invalid_iban: 'That IBAN was not accepted. Check it, or leave the field empty.',
    invalid_state:
      'This bank connection link is no longer valid. It may have been used already or timed out.',
    state_mismatch:
      'This bank connection link is no longer valid. It may have been used already or timed out.',
    unknown_state:
      'This bank connection link is no longer valid. It may have been used already or timed out.',
    state_reused: 'This bank connection link has already been used. Please start again.',
    state_expired: 'This bank connection link timed out. Please start again.',
    flow_not_found: 'This bank connection link is no longer valid. Please start again.',
    session_mismatch: 'The bank connection was finished in a different browser session. Please start again.',
    session_expired: 'Your session has expired. Please start again.',
    no_session: 'Your session has expired. Please start again.',
    missing_code: 'The bank connection did not finish properly. Please try again.',
    invalid_callback: 'The bank connection did not finish properly. Please try again.',
    callback_failed: 'The bank connection did not finish properly. Please try again.',
    exchange_failed: 'We could not complete the connection to your bank. Please try again.',
    token_exchange_failed: 'We could not complete the connection to your bank. Please try again.',
    invalid_grant: 'We could not complete the connection to your bank. Please try again.',
    reconnect_required: 'Your bank connection has expired. Please connect your account again.',
    token_expired: 'Your bank connection has expired. Please connect your account again.',
    refresh_failed: 'Your bank connection has expired. Please connect your account again.',
    report_failed: 'We could not create your income report. Please try again.',
    report_unavailable: 'Your income report is not available. Please try again.',
    report_not_found: 'Your income report is not available. Please try again.',
    report_timeout: 'Creating your income report took too long. Please try again.',
    expired: 'This verification expired before it was finished. Please start again.',
    flow_expired: 'This verification expired before it was finished. Please start again.',
    verification_expired: 'This verification expired before it was finished. Please start again.',
    provider_error: 'Our banking partner reported a problem. Please try again in a few minutes.',
    provider_unavailable:
      'Our banking partner is not reachable right now. Please try again in a few minutes.',
    provider_timeout: 'Our banking partner did not answer in time. Please try again in a few minutes.',
    upstream_error: 'Our banking partner reported a problem. Please try again in a few minutes.',
    upstream_unavailable:
      'Our banking partner is not reachable right now. Please try again in a few minutes.',
    upstream_timeout: 'Our banking partner did not answer in time. Please try again in a few minutes.',
    bank_error: 'Your bank reported a problem. Please try again later.',
    service_unavailable: 'The service is busy right now. Please try again in a few minutes.',
    rate_limited: 'Too many attempts in a short time. Please wait a moment and try again.',
    too_many_requests: 'Too many attempts in a short time. Please wait a moment and try again.',
    forbidden: 'The request was blocked for your security. Reload the page and try again.',
    invalid_origin: 'The request was blocked for your security. Reload the page and try again.',
    csrf: 'The request was blocked for your security. Reload the page and try again.',
    bank_connection_failed: 'The bank connection was not completed. Please try again.',
    code_rejected: 'We could not complete the connection to your bank. Please try again.',
    exchange_timeout: 'Our banking partner did not answer in time. Please try again.',
    state_already_used: 'This bank connection link has already been used. Please start again.',
    verification_not_pending:
      'This bank connection was already finished or has timed out. Please start again.',
    report_expired: 'Your income report is no longer available. Please verify your income again.',
    dependency_unavailable: 'The service is busy right now. Please try again in a few minutes.',
    invalid_language: 'That language is not available. Please choose another one.',
    cross_site_request: 'The request was blocked for your security. Reload the page and try again.',
    forbidden_origin: 'The request was blocked for your security. Reload the page and try again.',
    internal_error: GENERIC_ERROR,
  };

  const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' });
  const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
  const monthYear = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });

  const $ = (id) => document.getElementById(id);

  const state = {
    view: null,
    status: null,
    uiGen: 0,
    pollGen: 0,
    pollTimer: null,
    pollFailures: 0,
    etag: null,
    lostPolls: 0,
    hasData: false,
    expectResult: false,
    widgetClosed: false,
    popup: null,
    popupWatch: null,
    overlay: null,
    chartRows: null,
    chartWidth: 0,
    deleting: false,
  };

  class ApiError extends Error {
    constructor(code, message, requestId, httpStatus, retryAfter) {
      super(message);
      this.code = code;
      this.requestId = requestId;
      this.httpStatus = httpStatus;
      this.retryAfter = retryAfter;
    }
  }

  // ---------------------------------------------------------------- HTTP

  async function api(method, path, body, extraHeaders) {
    const init = {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json', ...extraHeaders },
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch {
      throw new ApiError('network_error', ERROR_TEXT.network_error, null, 0, null);
    }
    let data = null;
    if (res.status !== 204 && res.status !== 304) {
      const text = await res.text().catch(() => '');
      if (text) {
        try {
          data = JSON.parse(text);
        } catch {
          data = null;
        }
      }
    }
    if (!res.ok && res.status !== 304) {
      const err = isObject(data) && isObject(data.error) ? data.error : {};
      const code = str(err.code) || `http_${res.status}`;
      const message = str(err.message) || ERROR_TEXT[code] || GENERIC_ERROR;
      throw new ApiError(code, message, str(err.requestId), res.status, retryAfterSeconds(res.headers, null));
    }
    return { httpStatus: res.status, data, headers: res.headers };
  }

  function retryAfterSeconds(headers, fallback = POLL_DEFAULT_S) {
    const raw = headers ? headers.get('Retry-After') : null;
    let seconds = fallback;
    if (raw && raw.trim()) {
      const n = Number(raw.trim());
      if (Number.isFinite(n)) seconds = n;
      else if (!Number.isNaN(Date.parse(raw))) seconds = (Date.parse(raw) - Date.now()) / 1000;
    }
    if (seconds === null) return null;
    return Math.min(POLL_MAX_S, Math.max(POLL_MIN_S, seconds));
  }

  // ---------------------------------------------------------------- polling

  function startPolling(delaySeconds = 0) {
    stopPolling();
    const gen = state.pollGen;
    state.pollFailures = 0;
    state.pollTimer = setTimeout(() => pollOnce(gen), delaySeconds * 1000);
  }

  function stopPolling() {
    state.pollGen += 1;
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  function schedulePoll(gen, seconds) {
    if (gen !== state.pollGen) return;
    state.pollTimer = setTimeout(() => pollOnce(gen), seconds * 1000);
  }

  // The server holds a poll that carries the current ETag and `Prefer: wait` until the state changes
  // (then 200) or the wait ends (304), and says so with Preference-Applied. Then the next poll goes
  // out at once; without Preference-Applied (a server that does not hold, or one at its bound) the
  // page waits Retry-After between polls as before.
  async function pollOnce(gen) {
    if (gen !== state.pollGen) return;
    state.pollTimer = null;
    const sentEtag = state.etag;
    let res;
    try {
      res = await api(
        'GET',
        '/api/verification',
        undefined,
        sentEtag ? { Prefer: `wait=${POLL_WAIT_S}`, 'If-None-Match': sentEtag } : {},
      );
    } catch (err) {
      if (gen !== state.pollGen) return;
      const transient =
        err.httpStatus === 0 || err.httpStatus === 429 || (err.httpStatus >= 502 && err.httpStatus <= 504);
      state.pollFailures += 1;
      if (transient && state.pollFailures <= MAX_POLL_FAILURES) {
        announce('Connection problem. Trying again…');
        schedulePoll(gen, err.retryAfter || Math.min(POLL_MAX_S, 2 ** state.pollFailures));
        return;
      }
      showError(err);
      return;
    }
    if (gen !== state.pollGen) return;
    state.pollFailures = 0;
    const held = res.headers.has('Preference-Applied');
    if (res.httpStatus === 304) {
      schedulePoll(gen, held ? 0 : retryAfterSeconds(res.headers));
      return;
    }
    const etag = res.headers.get('ETag');
    // A new state: ask again at once, now with its ETag (unless the server ignored the one sent).
    const changed = !!etag && etag !== sentEtag;
    state.etag = etag || null;
    const body = isObject(res.data) ? res.data : {};
    // The callback renews the session cookie just after it records the outcome: a poll sent in
    // between carries the old cookie and finds nothing. Ask again shortly before believing it.
    if (body.status === 'none' && ACTIVE.has(state.status) && state.lostPolls < LOST_POLL_RETRIES) {
      state.lostPolls += 1;
      schedulePoll(gen, 0.5);
      return;
    }
    state.lostPolls = 0;
    applyStatus(body);
    if (ACTIVE.has(state.status)) schedulePoll(gen, held || changed ? 0 : retryAfterSeconds(res.headers));
  }

  function applyStatus(body) {
    const status = str(body.status);
    switch (status) {
      case 'awaiting_user':
        state.hasData = true;
        if (state.widgetClosed) {
          stopPolling();
          showClosed();
        } else {
          showWaiting(status);
        }
        break;
      case 'processing':
        state.hasData = true;
        showWaiting(status);
        break;
      case 'ready':
        stopPolling();
        state.hasData = true;
        showReport(isObject(body.report) ? body.report : {});
        break;
      case 'cancelled':
        stopPolling();
        state.hasData = true;
        showCancelled();
        break;
      case 'failed':
      case 'expired':
        stopPolling();
        state.hasData = true;
        showFailed(status, isObject(body.error) ? body.error : null, { trustMessage: true });
        break;
      case 'none':
        stopPolling();
        state.hasData = false;
        if (state.expectResult) {
          showStart({
            notice: 'We could not find a verification for this browser session. Please start again.',
            focus: true,
          });
        } else {
          showStart({});
        }
        break;
      default:
        stopPolling();
        showError(new ApiError('invalid_response', ERROR_TEXT.invalid_response, null, 200, null));
    }
  }

  // ---------------------------------------------------------------- views

  const VIEWS = {
    start: ['view-start', 'start-heading'],
    waiting: ['view-waiting', 'waiting-heading'],
    outcome: ['view-outcome', 'outcome-heading'],
    handoff: ['view-handoff', 'handoff-heading'],
    report: ['report', 'report-heading'],
  };

  function setStatus(status, text) {
    state.status = status;
    $('main').dataset.status = status;
    if (text !== undefined) announce(text);
  }

  function announce(text) {
    const region = $('status');
    if (region.textContent !== text) region.textContent = text;
  }

  function showView(name, { focus = true, force = false } = {}) {
    const changed = state.view !== name;
    state.view = name;
    for (const [key, [sectionId]] of Object.entries(VIEWS)) $(sectionId).hidden = key !== name;
    $('data-controls').hidden = !state.hasData || name === 'handoff';
    setBusy(false);
    if (focus && (changed || force)) {
      const heading = $(VIEWS[name][1]);
      // After the frame/popup closes the browser may still be settling focus; do it on the next frame.
      window.requestAnimationFrame(() => heading.focus());
    }
  }

  function setBusy(busy) {
    $('start').disabled = busy;
    $('start-form').setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function showStart({ notice = '', focus = false }) {
    setStatus('none', notice);
    const box = $('start-notice');
    box.textContent = notice;
    box.hidden = !notice;
    showView('start', { focus });
  }

  function showWaiting(status) {
    const text = STATUS_TEXT[status];
    $('waiting-heading').textContent = text;
    const popupOpen = !!(state.popup && !state.popup.closed);
    $('waiting-hint').textContent = popupOpen
      ? 'Your bank connection is open in a separate window. This page updates by itself.'
      : 'This page updates by itself. Please keep it open.';
    $('focus-popup').hidden = !popupOpen || status !== 'awaiting_user';
    if (state.status !== status) setStatus(status, text);
    showView('waiting');
  }

  function showOutcome(status, heading, message, { requestId = null, reference = null } = {}) {
    $('outcome-heading').textContent = heading;
    $('outcome-message').textContent = message;
    setSmallPrint('outcome-request', requestId ? `Request ID: ${requestId}` : '');
    setSmallPrint('outcome-reference', reference ? `Reference: ${reference}` : '');
    setStatus(status, message);
    showView('outcome', { force: true });
  }

  function showCancelled() {
    showOutcome('cancelled', 'Bank connection cancelled', STATUS_TEXT.cancelled);
  }

  function showClosed() {
    showOutcome('closed', 'Window closed', STATUS_TEXT.closed);
  }

  // trustMessage: the server's own message may be shown when the code is unknown; a code read from
  // the address bar is attacker-controllable, so only mapped texts are shown for it.
  function showFailed(status, error, { trustMessage = false } = {}) {
    const code = safeCode(error && error.code);
    let message = (code && ERROR_TEXT[code]) || (trustMessage && error && str(error.message)) || null;
    if (!message) message = status === 'expired' ? ERROR_TEXT.expired : GENERIC_ERROR;
    const heading = status === 'expired' ? 'Verification expired' : 'Verification failed';
    showOutcome(status, heading, message, {
      requestId: error ? safeRequestId(error.requestId) : null,
      reference: code,
    });
  }

  function showError(err) {
    const message = err.message || GENERIC_ERROR;
    showOutcome('error', 'Something went wrong', message, {
      requestId: safeRequestId(err.requestId),
      reference: err.requestId ? null : safeCode(err.code),
    });
  }

  function showStartError(err) {
    $('start-error-message').textContent = err.message || GENERIC_ERROR;
    setSmallPrint('start-error-request', err.requestId ? `Request ID: ${err.requestId}` : '');
    $('start-error').hidden = false;
    setStatus('error', err.message || GENERIC_ERROR);
    showView('start', { focus: false });
    $('start-error').scrollIntoView({ block: 'nearest' });
  }

  function clearStartMessages() {
    $('start-error').hidden = true;
    $('start-notice').hidden = true;
  }

  function setSmallPrint(id, text) {
    const node = $(id);
    node.textContent = text;
    node.hidden = !text;
  }

  // ---------------------------------------------------------------- report

  function showReport(report) {
    const income = obj(report.income);
    const summary = obj(income && income.summary);
    const disposable = obj(report.disposable_income);
    const discretionary = obj(report.discretionary_income);
    const primary = obj(income && income.primary);

    const period = num(report.period);
    const periodNode = $('report-period');
    periodNode.textContent =
      period === null
        ? 'Based on the last — months'
        : `Based on the last ${period} month${period === 1 ? '' : 's'}`;
    setDataValue(periodNode, period);

    const figures = {
      income: num(summary && summary.average),
      total: num(summary && summary.total),
      regular: sumAverages(report.regular_expenses),
      variable: sumAverages(report.variable_expenses),
      disposable: num(disposable && disposable.average),
      discretionary: num(discretionary && discretionary.average),
      ratio: num(disposable && disposable.ratio),
    };
    setFigure('income-average', figures.income, formatMoney);
    setFigure('income-total', figures.total, formatMoney);
    setFigure('regular-expenses-average', figures.regular, formatMoney);
    setFigure('variable-expenses-average', figures.variable, formatMoney);
    setFigure('disposable-average', figures.disposable, formatMoney);
    setFigure('discretionary-average', figures.discretionary, formatMoney);
    setFigure('disposable-ratio', figures.ratio, (v) => percent.format(v));

    const low = num(summary && summary.low);
    const high = num(summary && summary.high);
    $('income-range').textContent =
      low !== null && high !== null
        ? `Lowest month ${formatMoney(low)} · highest month ${formatMoney(high)}`
        : '';

    const partner = str(primary && primary.payment_partner);
    const category = str(obj(primary && primary.category) && primary.category.name);
    const source = $('primary-source');
    source.textContent = [partner, category].filter(Boolean).join(' · ') || '—';
    if (partner) source.dataset.value = partner;
    else source.removeAttribute('data-value');
    if (category) source.dataset.category = category;
    else source.removeAttribute('data-category');
    const since = formatMonth(primary && primary.first_booked_on);
    $('primary-since').textContent = since ? `Paid since ${since}` : '';

    state.chartRows = [
      { label: 'Average monthly income', value: figures.income, cls: 'bar-income' },
      { label: 'Regular expenses', value: figures.regular, cls: 'bar-regular' },
      { label: 'Variable expenses', value: figures.variable, cls: 'bar-variable' },
      { label: 'Disposable income', value: figures.disposable, cls: 'bar-disposable' },
      { label: 'Discretionary income', value: figures.discretionary, cls: 'bar-discretionary' },
    ];
    renderTable(state.chartRows);

    setStatus('ready', STATUS_TEXT.ready);
    showView('report');
    state.chartWidth = 0;
    renderChart();
  }

  function setFigure(id, value, format) {
    const node = $(id);
    node.textContent = value === null ? '—' : format(value);
    setDataValue(node, value);
  }

  function setDataValue(node, value) {
    if (value === null) node.removeAttribute('data-value');
    else node.dataset.value = String(value);
  }

  function formatMoney(value) {
    return money.format(value);
  }

  function formatMonth(value) {
    const s = str(value);
    const m = s && /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
    if (!m) return null;
    const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return Number.isNaN(date.getTime()) ? null : monthYear.format(date);
  }

  function sumAverages(list) {
    if (!Array.isArray(list)) return null;
    if (list.length === 0) return 0;
    let total = 0;
    let found = false;
    for (const item of list) {
      const summary = obj(obj(item) && item.summary);
      const average = num(summary && summary.average);
      if (average !== null) {
        total += average;
        found = true;
      }
    }
    // Round to cents so 0.1 + 0.2 style artefacts do not leak into data-value.
    return found ? Math.round(total * 100) / 100 : null;
  }

  function renderTable(rows) {
    const body = $('report-table-body');
    body.replaceChildren(
      ...rows.map((row) => {
        const tr = document.createElement('tr');
        const th = document.createElement('th');
        th.scope = 'row';
        th.textContent = row.label;
        const td = document.createElement('td');
        td.textContent = row.value === null ? 'not available' : formatMoney(row.value);
        tr.append(th, td);
        return tr;
      }),
    );
  }

  function renderChart() {
    const host = $('report-chart');
    const rows = state.chartRows;
    if (!rows || host.offsetParent === null) return;
    const width = Math.max(240, Math.floor(host.clientWidth));
    if (width === state.chartWidth) return;
    state.chartWidth = width;

    const rowHeight = 54;
    const barHeight = 16;
    const height = rows.length * rowHeight;
    const values = rows.map((r) => r.value).filter((v) => v !== null);
    const min = Math.min(0, ...values);
    const max = Math.max(0, ...values);
    const range = max - min || 1;
    const scale = (v) => ((v - min) / range) * width;
    const zeroX = scale(0);

    const description = rows
      .map((r) => `${r.label}: ${r.value === null ? 'not available' : formatMoney(r.value)}`)
      .join('; ');
    const svg = svgEl('svg', {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-labelledby': 'chart-title chart-desc',
      class: 'chart-svg',
    });
    svg.append(
      svgEl('title', { id: 'chart-title' }, 'Monthly averages: income, expenses and what is left'),
      svgEl('desc', { id: 'chart-desc' }, `Bar chart. ${description}.`),
    );

    rows.forEach((row, i) => {
      const top = i * rowHeight;
      const barY = top + 26;
      const g = svgEl('g', { class: 'chart-row' });
      g.append(
        svgEl('text', { x: 0, y: top + 16, class: 'chart-label' }, row.label),
        svgEl(
          'text',
          { x: width, y: top + 16, 'text-anchor': 'end', class: 'chart-value' },
          row.value === null ? '—' : formatMoney(row.value),
        ),
        svgEl('rect', { x: 0, y: barY, width, height: barHeight, rx: 4, class: 'chart-track' }),
      );
      if (row.value !== null && row.value !== 0) {
        const x = Math.min(scale(row.value), zeroX);
        const w = Math.max(2, Math.abs(scale(row.value) - zeroX));
        g.append(
          svgEl('rect', {
            x: x.toFixed(1),
            y: barY,
            width: w.toFixed(1),
            height: barHeight,
            rx: 4,
            class: `chart-bar ${row.cls}${row.value < 0 ? ' bar-negative' : ''}`,
          }),
        );
      }
      if (min < 0) {
        g.append(
          svgEl('line', {
            x1: zeroX,
            x2: zeroX,
            y1: barY - 3,
            y2: barY + barHeight + 3,
            class: 'chart-zero',
          }),
        );
      }
      svg.append(g);
    });
    host.replaceChildren(svg);
  }

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---------------------------------------------------------------- starting a verification

  function readIban() {
    const input = $('iban');
    const iban = input.value.replace(/\s+/g, '').toUpperCase();
    let problem = null;
    if (iban) {
      if (!/^[A-Z]{2}/.test(iban)) problem = 'An IBAN starts with a two-letter country code, for example DE.';
      else if (!/^[A-Z]{2}[0-9]{2}/.test(iban))
        problem = 'The country code is followed by two check digits, for example DE89.';
      else if (!/^[A-Z0-9]+$/.test(iban)) problem = 'An IBAN contains only letters and digits.';
      else if (iban.length < 15 || iban.length > 34)
        problem = `This IBAN has ${iban.length} characters; IBANs have 15 to 34 (a German one has 22).`;
    }
    setFieldError(problem);
    if (problem) {
      input.focus();
      return null;
    }
    return iban;
  }

  function setFieldError(message) {
    const input = $('iban');
    const error = $('iban-error');
    error.textContent = message ? `${message} You can also leave the field empty.` : '';
    error.hidden = !message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  function onStart(event) {
    event.preventDefault();
    if ($('start').disabled) return;
    clearStartMessages();
    const iban = readIban();
    if (iban === null) {
      setStatus('none', 'Please check the IBAN.');
      return;
    }
    const payload = {};
    if (iban) payload.iban = iban;
    const language = $('language').value;
    if (language) payload.language = language;
    const checked = document.querySelector('input[name="mode"]:checked');
    const mode = checked ? checked.value : 'full';

    state.uiGen += 1;
    state.widgetClosed = false;
    state.expectResult = false;
    stopPolling();
    closeOverlay();

    if (mode === 'popup') startPopup(payload);
    else if (mode === 'iframe') startOverlay(payload);
    else {
      setBusy(true);
      setStatus('starting', STATUS_TEXT.starting);
      location.assign(`/verification/start?${new URLSearchParams(payload)}`);
    }
  }

  async function createVerification(payload) {
    const { data } = await api('POST', '/api/verification', payload);
    const target = isObject(data) ? str(data.location) : null;
    let url = null;
    try {
      url = target ? new URL(target, location.href) : null;
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new ApiError('invalid_response', ERROR_TEXT.invalid_response, null, 200, null);
    }
    // The widget may post from another of the provider's hosts than the one it started on.
    const listed = isObject(data) && Array.isArray(data.widgetOrigins) ? data.widgetOrigins : [];
    url.messageOrigins = [url.origin, ...listed.filter((o) => typeof o === 'string')];
    return url;
  }

  // Popup mode: the window must be opened synchronously inside the click, before any await,
  // or popup blockers step in. It starts blank and is pointed at the widget once we know the URL.
  async function startPopup(payload) {
    const popup = window.open('', POPUP_NAME, 'width=480,height=720');
    if (!popup) {
      showStartError(new ApiError('popup_blocked', ERROR_TEXT.popup_blocked, null, 0, null));
      return;
    }
    writePopupPlaceholder(popup);
    const gen = state.uiGen;
    setBusy(true);
    setStatus('starting', STATUS_TEXT.starting);
    let url;
    try {
      url = await createVerification(payload);
    } catch (err) {
      popup.close();
      if (gen === state.uiGen) showStartError(err);
      return;
    }
    if (gen !== state.uiGen || popup.closed) {
      if (!popup.closed) popup.close();
      if (gen === state.uiGen) showStartError(new ApiError('closed', STATUS_TEXT.closed, null, 0, null));
      return;
    }
    popup.location.replace(url.href);
    popup.focus();
    state.hasData = true;
    watchPopup(popup);
    showWaiting('awaiting_user');
    startPolling(POLL_DEFAULT_S);
  }

  function writePopupPlaceholder(popup) {
    try {
      const doc = popup.document;
      doc.title = 'Connecting to your bank…';
      const p = doc.createElement('p');
      p.textContent = 'Connecting to your bank…';
      doc.body.replaceChildren(p);
    } catch {
      // A reused window may already show another origin; it is navigated anyway.
    }
  }

  function watchPopup(popup) {
    stopPopupWatch();
    state.popup = popup;
    state.popupWatch = window.setInterval(() => {
      if (!popup.closed) return;
      stopPopupWatch();
      $('focus-popup').hidden = true;
      // Closed without telling us: one poll decides between "finished" and "closed by the user".
      if (ACTIVE.has(state.status) && !state.deleting) {
        state.widgetClosed = true;
        startPolling(0);
      }
    }, 500);
  }

  function stopPopupWatch() {
    if (state.popupWatch) window.clearInterval(state.popupWatch);
    state.popupWatch = null;
    state.popup = null;
  }

  // Overlay mode: the widget runs in an iframe and reports back with postMessage instead of a redirect.
  async function startOverlay(payload) {
    const gen = state.uiGen;
    setBusy(true);
    setStatus('starting', STATUS_TEXT.starting);
    let url;
    try {
      url = await createVerification(payload);
    } catch (err) {
      if (gen === state.uiGen) showStartError(err);
      return;
    }
    if (gen !== state.uiGen) return;
    state.hasData = true;
    showWaiting('awaiting_user');
    openOverlay(url);
    startPolling(POLL_DEFAULT_S);
  }

  function openOverlay(url) {
    const dialog = $('widget-dialog');
    const iframe = document.createElement('iframe');
    iframe.className = 'widget-frame';
    iframe.title = 'Bank connection (finX open banking)';
    iframe.referrerPolicy = 'strict-origin-when-cross-origin';
    iframe.src = url.href;
    $('widget-frame-host').replaceChildren(iframe);
    state.overlay = { iframe, origins: url.messageOrigins || [url.origin], done: false };
    if (!dialog.open) dialog.showModal();
    $('widget-close').focus();
  }

  function closeOverlay({ byUser = false } = {}) {
    const overlay = state.overlay;
    if (!overlay) return;
    state.overlay = null;
    overlay.iframe.remove();
    const dialog = $('widget-dialog');
    if (dialog.open) dialog.close();
    if (byUser && !overlay.done && !state.deleting) {
      state.widgetClosed = true;
      startPolling(0);
    }
  }

  function onWidgetMessage(event, overlay) {
    let data = event.data;
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data);
      } catch {
        return;
      }
    }
    if (!isObject(data) || !isObject(data.query)) return;
    const query = {};
    for (const key of CALLBACK_KEYS) {
      const value = data.query[key];
      if (typeof value === 'string') query[key] = value;
      else if (typeof value === 'boolean' || typeof value === 'number') query[key] = String(value);
    }
    if (!('state' in query) && !('success' in query)) return; // not the completion message
    overlay.done = true;
    closeOverlay();
    forwardCallback(query);
  }

  async function forwardCallback(query) {
    const gen = state.uiGen;
    stopPolling();
    showWaiting('processing');
    let res;
    try {
      res = await api('POST', '/api/verification/callback', query);
    } catch (err) {
      if (gen === state.uiGen) showError(err);
      return;
    }
    if (gen !== state.uiGen) return;
    const body = isObject(res.data) ? res.data : {};
    if (body.status === 'cancelled') showCancelled();
    else if (body.status === 'failed') showFailed('failed', obj(body.error), { trustMessage: true });
    else {
      state.expectResult = true;
      startPolling(0);
    }
  }

  // ---------------------------------------------------------------- coming back

  function readReturnParams() {
    const params = new URLSearchParams(location.search);
    if (!params.has('verification')) return null;
    const outcome = params.get('verification');
    const reason = params.get('reason');
    params.delete('verification');
    params.delete('reason');
    const query = params.toString();
    history.replaceState(
      history.state,
      '',
      `${location.pathname}${query ? `?${query}` : ''}${location.hash}`,
    );
    return { outcome: OUTCOMES.has(outcome) ? outcome : 'failed', reason: safeCode(reason) };
  }

  // Is this page the end of a popup or iframe flow started by another page of ours?
  function returnTarget() {
    try {
      if (
        window.opener &&
        window.opener !== window &&
        window.name === POPUP_NAME &&
        window.opener.location.origin === location.origin
      ) {
        return { win: window.opener, kind: 'popup' };
      }
    } catch {
      // cross-origin opener: not ours
    }
    try {
      if (window.parent !== window && window.parent.location.origin === location.origin) {
        return { win: window.parent, kind: 'frame' };
      }
    } catch {
      // cross-origin parent: not ours
    }
    return null;
  }

  function handOff(target, result) {
    const message = { type: MESSAGE_TYPE, outcome: result.outcome };
    if (result.reason) message.reason = result.reason;
    try {
      target.win.postMessage(message, location.origin);
    } catch {
      handleOutcome(result);
      return;
    }
    setStatus('handoff', 'Bank connection finished. You can close this window.');
    showView('handoff');
    if (target.kind === 'popup') window.close();
  }

  function handleOutcome(result) {
    state.uiGen += 1;
    stopPolling();
    state.hasData = true;
    if (result.outcome === 'completed') {
      state.expectResult = true;
      state.widgetClosed = false;
      showWaiting('processing');
      startPolling(0);
    } else if (result.outcome === 'cancelled') {
      showCancelled();
    } else {
      showFailed('failed', result.reason ? { code: result.reason } : null);
    }
  }

  function onMessage(event) {
    const data = event.data;
    if (event.origin === location.origin && isObject(data) && data.type === MESSAGE_TYPE) {
      if (state.deleting) return;
      stopPopupWatch();
      closeOverlay();
      window.focus();
      handleOutcome({
        outcome: OUTCOMES.has(data.outcome) ? data.outcome : 'failed',
        reason: safeCode(data.reason),
      });
      return;
    }
    const overlay = state.overlay;
    if (
      overlay &&
      !overlay.done &&
      overlay.origins.includes(event.origin) &&
      event.source === overlay.iframe.contentWindow
    ) {
      onWidgetMessage(event, overlay);
    }
  }

  async function resume() {
    const gen = state.uiGen;
    let res;
    try {
      res = await api('GET', '/api/verification');
    } catch {
      if (gen === state.uiGen) showStart({});
      return;
    }
    if (gen !== state.uiGen) return;
    const body = isObject(res.data) ? res.data : {};
    if (ACTIVE.has(body.status)) {
      applyStatus(body);
      startPolling(retryAfterSeconds(res.headers));
    } else if (body.status === 'ready') {
      applyStatus(body);
    } else {
      state.hasData = !!body.status && body.status !== 'none';
      showStart({});
    }
  }

  // ---------------------------------------------------------------- other actions

  function backToStart() {
    state.uiGen += 1;
    stopPolling();
    stopPopupWatch();
    closeOverlay();
    clearStartMessages();
    showStart({ focus: true });
  }

  async function onDelete() {
    if (state.deleting) return;
    const button = $('delete');
    const previous = state.status;
    state.deleting = true;
    button.disabled = true;
    $('delete-error').hidden = true;
    state.uiGen += 1;
    stopPolling();
    try {
      await api('DELETE', '/api/verification', {});
    } catch (err) {
      state.deleting = false;
      button.disabled = false;
      $('delete-error-message').textContent = err.message || GENERIC_ERROR;
      setSmallPrint('delete-error-request', err.requestId ? `Request ID: ${err.requestId}` : '');
      $('delete-error').hidden = false;
      announce(err.message || GENERIC_ERROR);
      if (ACTIVE.has(previous)) startPolling(POLL_DEFAULT_S);
      return;
    }
    if (state.popup && !state.popup.closed) state.popup.close();
    stopPopupWatch();
    closeOverlay();
    state.hasData = false;
    state.expectResult = false;
    state.widgetClosed = false;
    state.chartRows = null;
    $('report-chart').replaceChildren();
    $('start-form').reset();
    setFieldError(null);
    clearStartMessages();
    state.deleting = false;
    button.disabled = false;
    showStart({ notice: STATUS_TEXT.deleted, focus: true });
  }

  function bindEvents() {
    $('start-form').addEventListener('submit', onStart);
    $('iban').addEventListener('input', () => {
      if (!$('iban-error').hidden) setFieldError(null);
    });
    $('retry').addEventListener('click', backToStart);
    $('restart').addEventListener('click', backToStart);
    $('delete').addEventListener('click', onDelete);
    $('focus-popup').addEventListener('click', () => {
      if (state.popup && !state.popup.closed) state.popup.focus();
    });
    $('close-window').addEventListener('click', () => window.close());
    $('widget-close').addEventListener('click', () => closeOverlay({ byUser: true }));
    // Escape closes the dialog natively; the close event then tells us the user gave up.
    $('widget-dialog').addEventListener('close', () => closeOverlay({ byUser: true }));
    window.addEventListener('message', onMessage);
    window.addEventListener('resize', () => {
      if (state.view === 'report') renderChart();
    });
    // Back button from the widget can restore this page from the back/forward cache mid-"starting".
    window.addEventListener('pageshow', (event) => {
      if (event.persisted && state.status === 'starting') {
        state.uiGen += 1;
        resume();
      }
    });
  }

  // ---------------------------------------------------------------- helpers

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  function obj(value) {
    return isObject(value) ? value : null;
  }

  function str(value) {
    return typeof value === 'string' && value.trim() ? value.trim() : null;
  }

  function num(value) {
    if (typeof value === 'number') return Number.isFinite(value) ? value : null;
    if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
    return null;
  }

  function safeCode(value) {
    return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value.toLowerCase() : null;
  }

  function safeRequestId(value) {
    return typeof value === 'string' && /^[\x21-\x7e]{1,128}$/.test(value) ? value : null;
  }

  // ---------------------------------------------------------------- boot

  function init() {
    bindEvents();
    const result = readReturnParams();
    if (result) {
      const target = returnTarget();
      if (target) handOff(target, result);
      else handleOutcome(result);
      return;
    }
    resume();
  }

  init();
})();
