// Demo frontend of the income-verification BFF: state, views and the flow. The pieces live beside
// it: api.js (calls), poller.js, widget.js (full page / popup / overlay), report.js, messages.js
// (English and German), format.js (Intl), values.js, dom.js.
import { ApiError, api } from './api.js';
import { $, setSmallPrint, translatePage } from './dom.js';
import { formatters } from './format.js';
import { localeFor, translator } from './messages.js';
import { createPoller } from './poller.js';
import { drawChart, fillReport } from './report.js';
import {
  POLL_DEFAULT_S,
  checkIban,
  isObject,
  obj,
  retryAfterSeconds,
  safeCode,
  safeRequestId,
  str,
} from './values.js';
import {
  MESSAGE_TYPE,
  OUTCOMES,
  callbackQueryOf,
  openBlankPopup,
  returnTarget,
  takeReturnParams,
  widgetUrlOf,
} from './widget.js';

const ACTIVE = new Set(['awaiting_user', 'processing']);
const VIEWS = {
  start: ['view-start', 'start-heading'],
  waiting: ['view-waiting', 'waiting-heading'],
  outcome: ['view-outcome', 'outcome-heading'],
  handoff: ['view-handoff', 'handoff-heading'],
  report: ['report', 'report-heading'],
};

let t = translator(localeFor(navigator.language));
let fmt = formatters(t.locale);

const state = {
  view: null,
  status: null,
  uiGen: 0,
  hasData: false,
  expectResult: false,
  widgetClosed: false,
  popup: null,
  popupWatch: null,
  overlay: null,
  report: null,
  chartRows: null,
  chartWidth: 0,
  deleting: false,
  /** What the current view says, so a language switch can say it again. */
  redraw: null,
};

const call = (method, path, body, headers) => api(t, method, path, body, headers);
const poller = createPoller({
  call: (headers) => call('GET', '/api/verification', undefined, headers),
  onAnswer: (body) => {
    applyStatus(body);
    return ACTIVE.has(state.status);
  },
  isActive: () => ACTIVE.has(state.status),
  onRetrying: () => announce(t('status.retrying')),
  onFailed: (err) => showError(err),
});

// ---------------------------------------------------------------- language

function setLanguage(locale) {
  t = translator(locale);
  fmt = formatters(t.locale);
  translatePage(t);
  for (const button of document.querySelectorAll('[data-locale]'))
    button.setAttribute('aria-pressed', String(button.dataset.locale === t.locale));
  if (state.redraw) state.redraw();
}

// ---------------------------------------------------------------- states and views

function applyStatus(body) {
  const status = str(body.status);
  switch (status) {
    case 'awaiting_user':
      state.hasData = true;
      if (state.widgetClosed) {
        poller.stop();
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
      poller.stop();
      state.hasData = true;
      showReport(isObject(body.report) ? body.report : {});
      break;
    case 'cancelled':
      poller.stop();
      state.hasData = true;
      showCancelled();
      break;
    case 'failed':
    case 'expired':
      poller.stop();
      state.hasData = true;
      showFailed(status, isObject(body.error) ? body.error : null, { trustMessage: true });
      break;
    case 'none':
      poller.stop();
      state.hasData = false;
      showStart(state.expectResult ? { notice: 'status.notFound', focus: true } : {});
      break;
    default:
      poller.stop();
      showError(new ApiError('invalid_response', t.error('invalid_response'), null, 200, null));
  }
}

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
  state.redraw = () => showStart({ notice, focus: false });
  const text = notice ? t(notice) : '';
  setStatus('none', text);
  const box = $('start-notice');
  box.textContent = text;
  box.hidden = !text;
  showView('start', { focus });
}

function showWaiting(status) {
  state.redraw = () => showWaiting(status);
  const text = t(`status.${status}`);
  $('waiting-heading').textContent = text;
  const popupOpen = !!(state.popup && !state.popup.closed);
  $('waiting-hint').textContent = popupOpen ? t('waiting.popupOpen') : t('waiting.keepOpen');
  $('focus-popup').hidden = !popupOpen || status !== 'awaiting_user';
  if (state.status !== status) setStatus(status, text);
  showView('waiting');
}

function showOutcome(status, heading, message, { requestId = null, reference = null } = {}) {
  $('outcome-heading').textContent = heading;
  $('outcome-message').textContent = message;
  setSmallPrint('outcome-request', requestId ? t('requestId', { id: requestId }) : '');
  setSmallPrint('outcome-reference', reference ? t('reference', { code: reference }) : '');
  setStatus(status, message);
  showView('outcome', { force: true });
}

function showCancelled() {
  state.redraw = showCancelled;
  showOutcome('cancelled', t('heading.cancelled'), t('status.cancelled'));
}

function showClosed() {
  state.redraw = showClosed;
  showOutcome('closed', t('heading.closed'), t('status.closed'));
}

// trustMessage: the server's own message may be shown when the code is unknown; a code read from
// the address bar is attacker-controllable, so only mapped texts are shown for it.
function showFailed(status, error, { trustMessage = false } = {}) {
  state.redraw = () => showFailed(status, error, { trustMessage });
  const code = safeCode(error && error.code);
  let message = (code && t.error(code)) || (trustMessage && error && str(error.message)) || null;
  if (!message) message = status === 'expired' ? t.error('verification_expired') : t('generic');
  showOutcome(status, status === 'expired' ? t('heading.expired') : t('heading.failed'), message, {
    requestId: error ? safeRequestId(error.requestId) : null,
    reference: code,
  });
}

function showError(err) {
  state.redraw = () => showError(err);
  const message = t.error(err.code) || err.message || t('generic');
  showOutcome('error', t('heading.error'), message, {
    requestId: safeRequestId(err.requestId),
    reference: err.requestId ? null : safeCode(err.code),
  });
}

function showStartError(err) {
  const message = t.error(err.code) || err.message || t('generic');
  $('start-error-message').textContent = message;
  setSmallPrint('start-error-request', err.requestId ? t('requestId', { id: err.requestId }) : '');
  $('start-error').hidden = false;
  setStatus('error', message);
  showView('start', { focus: false });
  $('start-error').scrollIntoView({ block: 'nearest' });
}

function clearStartMessages() {
  $('start-error').hidden = true;
  $('start-notice').hidden = true;
}

function showReport(report) {
  state.report = report;
  state.redraw = () => showReport(report);
  state.chartRows = fillReport(report, t, fmt);
  setStatus('ready', t('status.ready'));
  showView('report');
  state.chartWidth = drawChart(state.chartRows, 0, t, fmt);
}

// ---------------------------------------------------------------- starting a verification

function readIban() {
  const checked = checkIban($('iban').value);
  setFieldError(
    checked.problem ? t('iban.orEmpty', { problem: t(checked.problem, { n: checked.n }) }) : null,
  );
  if (checked.problem) {
    $('iban').focus();
    return null;
  }
  return checked.iban;
}

function setFieldError(message) {
  const input = $('iban');
  const error = $('iban-error');
  error.textContent = message || '';
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
    setStatus('none', t('status.checkIban'));
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
  poller.stop();
  closeOverlay();

  if (mode === 'popup') startPopup(payload);
  else if (mode === 'iframe') startOverlay(payload);
  else {
    setBusy(true);
    setStatus('starting', t('status.starting'));
    location.assign(`/verification/start?${new URLSearchParams(payload)}`);
  }
}

async function createVerification(payload) {
  const { data } = await call('POST', '/api/verification', payload);
  const url = widgetUrlOf(data);
  if (!url) throw new ApiError('invalid_response', t.error('invalid_response'), null, 200, null);
  return url;
}

/**
 * Shows "starting" and asks the server for a widget link. Undefined when that failed (the error is
 * shown unless the page has moved on meanwhile); `gen` tells the caller whether it has.
 */
async function requestWidgetUrl(payload, onFailure = () => {}) {
  const gen = state.uiGen;
  setBusy(true);
  setStatus('starting', t('status.starting'));
  try {
    return { url: await createVerification(payload), gen };
  } catch (err) {
    onFailure();
    if (gen === state.uiGen) showStartError(err);
    return undefined;
  }
}

async function startPopup(payload) {
  const popup = openBlankPopup(t('popup.connecting'));
  if (!popup) {
    showStartError(new ApiError('popup_blocked', t.error('popup_blocked'), null, 0, null));
    return;
  }
  const started = await requestWidgetUrl(payload, () => popup.close());
  if (!started) return;
  const { url, gen } = started;
  if (gen !== state.uiGen || popup.closed) {
    if (!popup.closed) popup.close();
    if (gen === state.uiGen) showStartError(new ApiError('closed', t('status.closed'), null, 0, null));
    return;
  }
  popup.location.replace(url.href);
  popup.focus();
  state.hasData = true;
  watchPopup(popup);
  showWaiting('awaiting_user');
  poller.start(POLL_DEFAULT_S);
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
      poller.start(0);
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
  const started = await requestWidgetUrl(payload);
  if (!started || started.gen !== state.uiGen) return;
  const { url } = started;
  state.hasData = true;
  showWaiting('awaiting_user');
  openOverlay(url);
  poller.start(POLL_DEFAULT_S);
}

function openOverlay(url) {
  const dialog = $('widget-dialog');
  const iframe = document.createElement('iframe');
  iframe.className = 'widget-frame';
  iframe.title = t('dialog.frameTitle');
  iframe.referrerPolicy = 'strict-origin-when-cross-origin';
  iframe.src = url.href;
  $('widget-frame-host').replaceChildren(iframe);
  state.overlay = { iframe, origins: url.origins, done: false };
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
    poller.start(0);
  }
}

async function forwardCallback(query) {
  const gen = state.uiGen;
  poller.stop();
  showWaiting('processing');
  let res;
  try {
    res = await call('POST', '/api/verification/callback', query);
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
    poller.start(0);
  }
}

// ---------------------------------------------------------------- coming back

function handOff(target, result) {
  const message = { type: MESSAGE_TYPE, outcome: result.outcome };
  if (result.reason) message.reason = result.reason;
  try {
    target.win.postMessage(message, location.origin);
  } catch {
    handleOutcome(result);
    return;
  }
  state.redraw = null;
  setStatus('handoff', t('handoff.status'));
  showView('handoff');
  if (target.kind === 'popup') window.close();
}

function handleOutcome(result) {
  state.uiGen += 1;
  poller.stop();
  state.hasData = true;
  if (result.outcome === 'completed') {
    state.expectResult = true;
    state.widgetClosed = false;
    showWaiting('processing');
    poller.start(0);
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
    const query = callbackQueryOf(data);
    if (!query) return;
    overlay.done = true;
    closeOverlay();
    forwardCallback(query);
  }
}

async function resume() {
  const gen = state.uiGen;
  let res;
  try {
    res = await call('GET', '/api/verification');
  } catch {
    if (gen === state.uiGen) showStart({});
    return;
  }
  if (gen !== state.uiGen) return;
  const body = isObject(res.data) ? res.data : {};
  if (ACTIVE.has(body.status)) {
    applyStatus(body);
    poller.start(retryAfterSeconds(res.headers));
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
  poller.stop();
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
  poller.stop();
  try {
    await call('DELETE', '/api/verification', {});
  } catch (err) {
    state.deleting = false;
    button.disabled = false;
    const message = t.error(err.code) || err.message || t('generic');
    $('delete-error-message').textContent = message;
    setSmallPrint('delete-error-request', err.requestId ? t('requestId', { id: err.requestId }) : '');
    $('delete-error').hidden = false;
    announce(message);
    if (ACTIVE.has(previous)) poller.start(POLL_DEFAULT_S);
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
  $('language').value = t.locale;
  setFieldError(null);
  clearStartMessages();
  state.deleting = false;
  button.disabled = false;
  showStart({ notice: 'status.deleted', focus: true });
}

function bindEvents() {
  $('start-form').addEventListener('submit', onStart);
  $('iban').addEventListener('input', () => {
    if (!$('iban-error').hidden) setFieldError(null);
  });
  // The page follows the widget language where it has texts for it.
  $('language').addEventListener('change', () => {
    const locale = localeFor($('language').value);
    if ($('language').value === locale && locale !== t.locale) setLanguage(locale);
  });
  for (const button of document.querySelectorAll('[data-locale]')) {
    button.addEventListener('click', () => {
      setLanguage(button.dataset.locale);
      $('language').value = t.locale;
    });
  }
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
    if (state.view === 'report') state.chartWidth = drawChart(state.chartRows, state.chartWidth, t, fmt);
  });
  // Back button from the widget can restore this page from the back/forward cache mid-"starting".
  window.addEventListener('pageshow', (event) => {
    if (event.persisted && state.status === 'starting') {
      state.uiGen += 1;
      resume();
    }
  });
}

function init() {
  translatePage(t);
  $('language').value = t.locale;
  for (const button of document.querySelectorAll('[data-locale]'))
    button.setAttribute('aria-pressed', String(button.dataset.locale === t.locale));
  bindEvents();
  const result = takeReturnParams();
  if (result) {
    const target = returnTarget();
    if (target) handOff(target, result);
    else handleOutcome(result);
    return;
  }
  resume();
}

init();
