// Every text the page shows, in English and German (the provider's home market), by key. The page
// follows the widget language chosen in the form where it has texts for it, and has a switch.
// `errors` holds one text per code the server can send to this page (src/errors.ts,
// src/verification/outcomes.ts) plus the page's own; test/unit/page-messages.test.ts holds that
// list exact for every language.

const en = {
  'page.title': 'Verify your income',
  skip: 'Skip to content',
  brand: 'Income check',
  trust: 'Secure open-banking connection',
  noscript: 'This page needs JavaScript to connect to your bank.',
  'start.heading': 'Verify your income',
  'start.lead':
    'Connect your bank account to confirm your income. We only read a summary of your income and regular spending from the last months, never your login details, and nothing is stored in your browser.',
  'iban.label': 'IBAN (optional)',
  'iban.hint': 'Enter the account your salary is paid into to skip choosing your bank.',
  'language.label': 'Language of the bank connection',
  'mode.legend': 'How should the bank connection open?',
  'mode.full': 'Full page',
  'mode.full.hint': 'Go to your bank in this tab and come back here.',
  'mode.popup': 'Popup window',
  'mode.popup.hint': 'A small window opens on top of this page.',
  'mode.iframe': 'Overlay (iframe)',
  'mode.iframe.hint': 'Your bank connection opens inside this page.',
  'start.button': 'Verify income',
  'waiting.popupOpen': 'Your bank connection is open in a separate window. This page updates by itself.',
  'waiting.keepOpen': 'This page updates by itself. Please keep it open.',
  'waiting.focusPopup': 'Show the bank window',
  'waiting.restart': 'Start over',
  'outcome.retry': 'Try again',
  'handoff.heading': 'Bank connection finished',
  'handoff.text': 'You can close this window. The original page shows your result.',
  'handoff.close': 'Close window',
  'handoff.status': 'Bank connection finished. You can close this window.',
  'report.heading': 'Your income report',
  'report.period': 'Based on the last {n} months',
  'report.period.one': 'Based on the last month',
  'report.period.unknown': 'Based on the last — months',
  'figure.income': 'Average monthly income',
  'figure.total': 'Total income in the period',
  'figure.regular': 'Regular expenses per month',
  'figure.variable': 'Variable expenses per month',
  'figure.disposable': 'Disposable income per month',
  'figure.discretionary': 'Discretionary income per month',
  'figure.ratio': 'Disposable share of income',
  'figure.source': 'Main income source',
  'report.range': 'Lowest month {low} · highest month {high}',
  'report.since': 'Paid since {month}',
  'chart.caption': 'Monthly averages',
  'chart.title': 'Monthly averages: income, expenses and what is left',
  'chart.desc': 'Bar chart. {rows}.',
  'table.item': 'Item',
  'table.average': 'Average per month',
  'row.income': 'Average monthly income',
  'row.regular': 'Regular expenses',
  'row.variable': 'Variable expenses',
  'row.disposable': 'Disposable income',
  'row.discretionary': 'Discretionary income',
  notAvailable: 'not available',
  'report.explain':
    'Disposable income is income minus regular expenses; discretionary income is disposable income minus variable expenses.',
  'data.label': 'Your data',
  'data.delete': 'Delete my data',
  'data.hint': 'Removes the bank connection and the report from our server.',
  'dialog.title': 'Connect your bank account',
  'dialog.close': 'Close',
  'dialog.frameTitle': 'Bank connection (finX open banking)',
  footer: 'Demo frontend of the income-verification BFF. Sandbox provider: no real bank data.',
  'status.starting': 'Opening your bank connection…',
  'status.awaiting_user': 'Waiting for you to finish at your bank…',
  'status.processing': 'Preparing your income report…',
  'status.ready': 'Your income report is ready.',
  'status.cancelled': 'You cancelled the bank connection.',
  'status.closed': 'The window was closed before you finished connecting your bank.',
  'status.deleted': 'Your data has been deleted. You can start a new verification at any time.',
  'status.retrying': 'Connection problem. Trying again…',
  'status.checkIban': 'Please check the IBAN.',
  'status.notFound': 'We could not find a verification for this browser session. Please start again.',
  'popup.connecting': 'Connecting to your bank…',
  'heading.cancelled': 'Bank connection cancelled',
  'heading.closed': 'Window closed',
  'heading.expired': 'Verification expired',
  'heading.failed': 'Verification failed',
  'heading.error': 'Something went wrong',
  requestId: 'Request ID: {id}',
  reference: 'Reference: {code}',
  'iban.country': 'An IBAN starts with a two-letter country code, for example DE.',
  'iban.check': 'The country code is followed by two check digits, for example DE89.',
  'iban.chars': 'An IBAN contains only letters and digits.',
  'iban.length': 'This IBAN has {n} characters; IBANs have 15 to 34 (a German one has 22).',
  'iban.orEmpty': '{problem} You can also leave the field empty.',
  generic: 'Something went wrong while verifying your income. Please try again.',
  'switch.label': 'Language of this page',
};

const AGAIN_LATER_EN = 'Please try again in a few minutes.';
const BLOCKED_EN = 'The request was blocked for your security. Reload the page and try again.';
const NOT_ACCEPTED_EN = 'The request was not accepted. Reload the page and try again.';
const LINK_INVALID_EN =
  'This bank connection link is no longer valid. It may have been used already or timed out.';
const RECONNECT_EN = 'Your bank connection has expired. Please connect your account again.';
const START_AGAIN_EN = 'This verification expired before it was finished. Please start again.';
const errorsEn = {
  network_error: 'We could not reach the server. Check your internet connection and try again.',
  popup_blocked: 'Your browser blocked the popup window. Allow popups for this site, or choose “Full page”.',
  invalid_response: 'The server sent an unexpected answer. Please try again.',
  invalid_request: NOT_ACCEPTED_EN,
  invalid_iban: 'That IBAN was not accepted. Check it, or leave the field empty.',
  invalid_language: 'That language is not available. Please choose another one.',
  invalid_json: NOT_ACCEPTED_EN,
  invalid_callback: 'The bank connection did not finish properly. Please try again.',
  invalid_state: LINK_INVALID_EN,
  unsupported_media_type: NOT_ACCEPTED_EN,
  payload_too_large: 'The request was too large. Reload the page and try again.',
  headers_too_large: 'The request was too large. Clear this site’s cookies and try again.',
  uri_too_long: 'The address was too long. Please start again.',
  request_timeout: 'The request took too long to arrive. Check your connection and try again.',
  ticket_invalid: 'This start link is not valid. Ask for a new one.',
  ticket_expired: 'This start link has expired. Ask for a new one.',
  ticket_used: 'This start link has already been used. Ask for a new one.',
  ticket_required: 'Please use the start link you were sent.',
  forbidden_origin: BLOCKED_EN,
  cross_site_request: BLOCKED_EN,
  state_already_used: 'This bank connection link has already been used. Please start again.',
  verification_not_pending: 'This bank connection was already finished or has timed out. Please start again.',
  rate_limited: 'Too many attempts in a short time. Please wait a moment and try again.',
  widget_origin_not_allowed: `Our banking partner sent an unexpected address. ${AGAIN_LATER_EN}`,
  provider_error: `Our banking partner reported a problem. ${AGAIN_LATER_EN}`,
  provider_timeout: `Our banking partner did not answer in time. ${AGAIN_LATER_EN}`,
  provider_unavailable: `Our banking partner is not reachable right now. ${AGAIN_LATER_EN}`,
  dependency_unavailable: `The service is busy right now. ${AGAIN_LATER_EN}`,
  refresh_in_progress: `The service is busy right now. ${AGAIN_LATER_EN}`,
  internal_error: en.generic,
  bank_connection_failed: 'The bank connection was not completed. Please try again.',
  exchange_timeout: 'Our banking partner did not answer in time. Please try again.',
  code_rejected: 'We could not complete the connection to your bank. Please try again.',
  report_timeout: 'Creating your income report took too long. Please try again.',
  report_unavailable: 'Your income report is not available. Please try again.',
  report_path_misconfigured: `Your income report could not be fetched because of a problem on our side. ${AGAIN_LATER_EN}`,
  session_expired: RECONNECT_EN,
  reconnect_required: RECONNECT_EN,
  flow_expired: START_AGAIN_EN,
  access_lost: 'Your bank no longer grants access to this account. Please verify your income again.',
  access_expired: 'The agreed access to your account has ended. Please verify your income again.',
  report_expired: 'Your income report is no longer available. Please verify your income again.',
  verification_expired: START_AGAIN_EN,
};

const de = {
  'page.title': 'Einkommen nachweisen',
  skip: 'Zum Inhalt springen',
  brand: 'Einkommensnachweis',
  trust: 'Sichere Open-Banking-Verbindung',
  noscript: 'Diese Seite braucht JavaScript, um sich mit Ihrer Bank zu verbinden.',
  'start.heading': 'Einkommen nachweisen',
  'start.lead':
    'Verbinden Sie Ihr Bankkonto, um Ihr Einkommen zu bestätigen. Wir lesen nur eine Zusammenfassung Ihrer Einnahmen und regelmäßigen Ausgaben der letzten Monate, nie Ihre Zugangsdaten, und in Ihrem Browser wird nichts gespeichert.',
  'iban.label': 'IBAN (optional)',
  'iban.hint': 'Geben Sie das Konto an, auf das Ihr Gehalt eingeht; dann entfällt die Bankauswahl.',
  'language.label': 'Sprache der Bankverbindung',
  'mode.legend': 'Wie soll sich die Bankverbindung öffnen?',
  'mode.full': 'Ganze Seite',
  'mode.full.hint': 'Sie gehen in diesem Tab zu Ihrer Bank und kommen hierher zurück.',
  'mode.popup': 'Popup-Fenster',
  'mode.popup.hint': 'Ein kleines Fenster öffnet sich über dieser Seite.',
  'mode.iframe': 'Overlay (iframe)',
  'mode.iframe.hint': 'Die Bankverbindung öffnet sich innerhalb dieser Seite.',
  'start.button': 'Einkommen nachweisen',
  'waiting.popupOpen':
    'Ihre Bankverbindung ist in einem eigenen Fenster geöffnet. Diese Seite aktualisiert sich selbst.',
  'waiting.keepOpen': 'Diese Seite aktualisiert sich selbst. Bitte lassen Sie sie geöffnet.',
  'waiting.focusPopup': 'Bankfenster anzeigen',
  'waiting.restart': 'Neu beginnen',
  'outcome.retry': 'Erneut versuchen',
  'handoff.heading': 'Bankverbindung abgeschlossen',
  'handoff.text': 'Sie können dieses Fenster schließen. Die ursprüngliche Seite zeigt Ihr Ergebnis.',
  'handoff.close': 'Fenster schließen',
  'handoff.status': 'Bankverbindung abgeschlossen. Sie können dieses Fenster schließen.',
  'report.heading': 'Ihr Einkommensbericht',
  'report.period': 'Auf Basis der letzten {n} Monate',
  'report.period.one': 'Auf Basis des letzten Monats',
  'report.period.unknown': 'Auf Basis der letzten — Monate',
  'figure.income': 'Durchschnittliches Monatseinkommen',
  'figure.total': 'Gesamteinkommen im Zeitraum',
  'figure.regular': 'Regelmäßige Ausgaben pro Monat',
  'figure.variable': 'Variable Ausgaben pro Monat',
  'figure.disposable': 'Verfügbares Einkommen pro Monat',
  'figure.discretionary': 'Frei verfügbares Einkommen pro Monat',
  'figure.ratio': 'Verfügbarer Anteil am Einkommen',
  'figure.source': 'Hauptquelle des Einkommens',
  'report.range': 'Niedrigster Monat {low} · höchster Monat {high}',
  'report.since': 'Gezahlt seit {month}',
  'chart.caption': 'Monatliche Durchschnitte',
  'chart.title': 'Monatliche Durchschnitte: Einkommen, Ausgaben und was übrig bleibt',
  'chart.desc': 'Balkendiagramm. {rows}.',
  'table.item': 'Posten',
  'table.average': 'Durchschnitt pro Monat',
  'row.income': 'Durchschnittliches Monatseinkommen',
  'row.regular': 'Regelmäßige Ausgaben',
  'row.variable': 'Variable Ausgaben',
  'row.disposable': 'Verfügbares Einkommen',
  'row.discretionary': 'Frei verfügbares Einkommen',
  notAvailable: 'nicht verfügbar',
  'report.explain':
    'Verfügbares Einkommen ist Einkommen minus regelmäßige Ausgaben; frei verfügbares Einkommen ist verfügbares Einkommen minus variable Ausgaben.',
  'data.label': 'Ihre Daten',
  'data.delete': 'Meine Daten löschen',
  'data.hint': 'Entfernt die Bankverbindung und den Bericht von unserem Server.',
  'dialog.title': 'Bankkonto verbinden',
  'dialog.close': 'Schließen',
  'dialog.frameTitle': 'Bankverbindung (finX Open Banking)',
  footer: 'Demo-Oberfläche des Einkommensnachweis-BFF. Sandbox-Anbieter: keine echten Bankdaten.',
  'status.starting': 'Ihre Bankverbindung wird geöffnet…',
  'status.awaiting_user': 'Wir warten, bis Sie bei Ihrer Bank fertig sind…',
  'status.processing': 'Ihr Einkommensbericht wird erstellt…',
  'status.ready': 'Ihr Einkommensbericht ist fertig.',
  'status.cancelled': 'Sie haben die Bankverbindung abgebrochen.',
  'status.closed': 'Das Fenster wurde geschlossen, bevor die Bankverbindung fertig war.',
  'status.deleted': 'Ihre Daten wurden gelöscht. Sie können jederzeit einen neuen Nachweis beginnen.',
  'status.retrying': 'Verbindungsproblem. Neuer Versuch…',
  'status.checkIban': 'Bitte prüfen Sie die IBAN.',
  'status.notFound': 'Für diese Browser-Sitzung gibt es keinen Nachweis. Bitte beginnen Sie neu.',
  'popup.connecting': 'Verbindung zu Ihrer Bank…',
  'heading.cancelled': 'Bankverbindung abgebrochen',
  'heading.closed': 'Fenster geschlossen',
  'heading.expired': 'Nachweis abgelaufen',
  'heading.failed': 'Nachweis fehlgeschlagen',
  'heading.error': 'Etwas ist schiefgelaufen',
  requestId: 'Anfrage-ID: {id}',
  reference: 'Referenz: {code}',
  'iban.country': 'Eine IBAN beginnt mit einem zweistelligen Ländercode, zum Beispiel DE.',
  'iban.check': 'Auf den Ländercode folgen zwei Prüfziffern, zum Beispiel DE89.',
  'iban.chars': 'Eine IBAN enthält nur Buchstaben und Ziffern.',
  'iban.length': 'Diese IBAN hat {n} Zeichen; IBANs haben 15 bis 34 (eine deutsche 22).',
  'iban.orEmpty': '{problem} Sie können das Feld auch leer lassen.',
  generic: 'Beim Nachweis Ihres Einkommens ist etwas schiefgelaufen. Bitte versuchen Sie es erneut.',
  'switch.label': 'Sprache dieser Seite',
};

const AGAIN_LATER_DE = 'Bitte versuchen Sie es in einigen Minuten erneut.';
const BLOCKED_DE =
  'Die Anfrage wurde zu Ihrer Sicherheit blockiert. Laden Sie die Seite neu und versuchen Sie es erneut.';
const NOT_ACCEPTED_DE =
  'Die Anfrage wurde nicht angenommen. Laden Sie die Seite neu und versuchen Sie es erneut.';
const LINK_INVALID_DE =
  'Dieser Link zur Bankverbindung ist nicht mehr gültig. Er wurde vielleicht schon benutzt oder ist abgelaufen.';
const RECONNECT_DE = 'Ihre Bankverbindung ist abgelaufen. Bitte verbinden Sie Ihr Konto erneut.';
const START_AGAIN_DE = 'Dieser Nachweis ist abgelaufen, bevor er fertig war. Bitte beginnen Sie neu.';
const errorsDe = {
  network_error:
    'Der Server ist nicht erreichbar. Prüfen Sie Ihre Internetverbindung und versuchen Sie es erneut.',
  popup_blocked:
    'Ihr Browser hat das Popup-Fenster blockiert. Erlauben Sie Popups für diese Seite oder wählen Sie „Ganze Seite“.',
  invalid_response: 'Der Server hat unerwartet geantwortet. Bitte versuchen Sie es erneut.',
  invalid_request: NOT_ACCEPTED_DE,
  invalid_iban: 'Diese IBAN wurde nicht akzeptiert. Prüfen Sie sie oder lassen Sie das Feld leer.',
  invalid_language: 'Diese Sprache ist nicht verfügbar. Bitte wählen Sie eine andere.',
  invalid_json: NOT_ACCEPTED_DE,
  invalid_callback: 'Die Bankverbindung wurde nicht richtig abgeschlossen. Bitte versuchen Sie es erneut.',
  invalid_state: LINK_INVALID_DE,
  unsupported_media_type: NOT_ACCEPTED_DE,
  payload_too_large: 'Die Anfrage war zu groß. Laden Sie die Seite neu und versuchen Sie es erneut.',
  headers_too_large:
    'Die Anfrage war zu groß. Löschen Sie die Cookies dieser Seite und versuchen Sie es erneut.',
  uri_too_long: 'Die Adresse war zu lang. Bitte beginnen Sie neu.',
  request_timeout: 'Die Anfrage kam zu langsam an. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
  ticket_invalid: 'Dieser Startlink ist ungültig. Bitte fordern Sie einen neuen an.',
  ticket_expired: 'Dieser Startlink ist abgelaufen. Bitte fordern Sie einen neuen an.',
  ticket_used: 'Dieser Startlink wurde schon benutzt. Bitte fordern Sie einen neuen an.',
  ticket_required: 'Bitte benutzen Sie den Startlink, den Sie erhalten haben.',
  forbidden_origin: BLOCKED_DE,
  cross_site_request: BLOCKED_DE,
  state_already_used: 'Dieser Link zur Bankverbindung wurde schon benutzt. Bitte beginnen Sie neu.',
  verification_not_pending:
    'Diese Bankverbindung ist schon abgeschlossen oder abgelaufen. Bitte beginnen Sie neu.',
  rate_limited:
    'Zu viele Versuche in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie es erneut.',
  widget_origin_not_allowed: `Unser Bankpartner hat eine unerwartete Adresse geschickt. ${AGAIN_LATER_DE}`,
  provider_error: `Unser Bankpartner hat ein Problem gemeldet. ${AGAIN_LATER_DE}`,
  provider_timeout: `Unser Bankpartner hat nicht rechtzeitig geantwortet. ${AGAIN_LATER_DE}`,
  provider_unavailable: `Unser Bankpartner ist gerade nicht erreichbar. ${AGAIN_LATER_DE}`,
  dependency_unavailable: `Der Dienst ist gerade ausgelastet. ${AGAIN_LATER_DE}`,
  refresh_in_progress: `Der Dienst ist gerade ausgelastet. ${AGAIN_LATER_DE}`,
  internal_error: de.generic,
  bank_connection_failed: 'Die Bankverbindung wurde nicht abgeschlossen. Bitte versuchen Sie es erneut.',
  exchange_timeout: 'Unser Bankpartner hat nicht rechtzeitig geantwortet. Bitte versuchen Sie es erneut.',
  code_rejected:
    'Die Verbindung zu Ihrer Bank konnte nicht abgeschlossen werden. Bitte versuchen Sie es erneut.',
  report_timeout:
    'Die Erstellung Ihres Einkommensberichts hat zu lange gedauert. Bitte versuchen Sie es erneut.',
  report_unavailable: 'Ihr Einkommensbericht ist nicht verfügbar. Bitte versuchen Sie es erneut.',
  report_path_misconfigured: `Ihr Einkommensbericht konnte wegen eines Problems bei uns nicht abgerufen werden. ${AGAIN_LATER_DE}`,
  session_expired: RECONNECT_DE,
  reconnect_required: RECONNECT_DE,
  flow_expired: START_AGAIN_DE,
  access_lost:
    'Ihre Bank gewährt keinen Zugriff mehr auf dieses Konto. Bitte weisen Sie Ihr Einkommen erneut nach.',
  access_expired:
    'Der vereinbarte Zugriff auf Ihr Konto ist beendet. Bitte weisen Sie Ihr Einkommen erneut nach.',
  report_expired:
    'Ihr Einkommensbericht ist nicht mehr verfügbar. Bitte weisen Sie Ihr Einkommen erneut nach.',
  verification_expired: START_AGAIN_DE,
};

/** Texts by language; `errors` by error code. */
export const MESSAGES = { en: { ...en, errors: errorsEn }, de: { ...de, errors: errorsDe } };
export const LOCALES = Object.keys(MESSAGES);

/** The page's language for a language tag ("de-AT" → "de"); English when it has no texts for it. */
export function localeFor(tag) {
  const base = String(tag || '')
    .toLowerCase()
    .split('-')[0];
  return LOCALES.includes(base) ? base : 'en';
}

/** A translator for one locale: t(key, { name: value }) fills {name}; an unknown key shows itself. */
export function translator(locale) {
  const texts = MESSAGES[localeFor(locale)];
  const t = (key, vars = {}) =>
    String(texts[key] ?? MESSAGES.en[key] ?? key).replace(/\{(\w+)\}/g, (_, name) =>
      String(vars[name] ?? ''),
    );
  t.error = (code) => (code && Object.hasOwn(texts.errors, code) ? texts.errors[code] : null);
  t.locale = localeFor(locale);
  return t;
}
