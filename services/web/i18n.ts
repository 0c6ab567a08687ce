// Words of the console, German first, English available. Chosen by ?lang=, then the rw_lang cookie,
// then Accept-Language. Dates in Europe/Berlin with the zone (MEZ/MESZ is ambiguous otherwise).
import type { Severity } from '../../alerts/types.ts';

const de = {
  app: 'Regenwacht',
  skip: 'Zum Inhalt springen',
  nav_situation: 'Lagebild',
  nav_users: 'Benutzer',
  nav_audit: 'Protokoll',
  nav_password: 'Passwort ändern',
  nav_logout: 'Abmelden',
  nav_lang_other: 'English',
  nav_wall: 'Wandanzeige',
  login_title: 'Anmelden',
  login_login: 'Benutzername',
  login_password: 'Passwort',
  login_submit: 'Anmelden',
  login_failed: 'Benutzername oder Passwort ist falsch.',
  login_locked: 'Zu viele Fehlversuche: das Konto ist für 15 Minuten gesperrt.',
  login_limited: 'Zu viele Anmeldeversuche von dieser Adresse. Bitte eine Minute warten.',
  csrf_failed: 'Das Formular ist abgelaufen. Bitte die Seite neu laden und erneut senden.',
  pw_title: 'Passwort ändern',
  pw_current: 'Aktuelles Passwort',
  pw_new: 'Neues Passwort (mindestens 10 Zeichen)',
  pw_repeat: 'Neues Passwort wiederholen',
  pw_submit: 'Passwort ändern',
  pw_changed: 'Das Passwort wurde geändert. Andere Anmeldungen dieses Kontos wurden beendet.',
  pw_wrong: 'Das aktuelle Passwort ist falsch.',
  pw_mismatch: 'Die beiden neuen Passwörter stimmen nicht überein.',
  pw_weak: 'Das neue Passwort ist zu kurz oder enthält den Benutzernamen.',
  forbidden_title: 'Kein Zugriff',
  forbidden_text: 'Ihre Rolle darf diese Seite nicht öffnen.',
  notfound_title: 'Nicht gefunden',
  notfound_text: 'Diese Seite gibt es nicht, oder sie gehört zu einer anderen Kommune.',
  map_title: 'Karte der Stationen',
  map_no_tiles: 'Ohne Kartenhintergrund: Stationen und Gemeindeumrisse',
  legend: 'Legende',
  status_ok: 'kein Alarm',
  status_offline: 'offline / veraltet',
  sev_minor: 'gering',
  sev_moderate: 'mittel',
  sev_severe: 'hoch',
  sev_extreme: 'sehr hoch',
  board_title: 'Alarme',
  board_empty: 'Keine offenen Alarme.',
  board_count: '{n} offene Alarme',
  col_severity: 'Stufe',
  col_rule: 'Regel',
  col_station: 'Station',
  col_value: 'Wert / Schwelle',
  col_running: 'Dauer',
  col_state: 'Status',
  col_acked_by: 'Quittiert von',
  col_actions: 'Aktion',
  state_firing: 'ausgelöst',
  state_acknowledged: 'quittiert',
  state_resolved: 'beendet',
  state_closed: 'geschlossen (Konfiguration geändert)',
  filter_org: 'Kommune',
  filter_severity: 'Stufe',
  filter_state: 'Status',
  filter_all: 'alle',
  filter_active: 'offen',
  filter_apply: 'Filtern',
  ack: 'Quittieren',
  ack_comment: 'Kommentar (optional)',
  ack_done: 'Alarm quittiert.',
  ack_resolved: 'Der Alarm ist bereits beendet.',
  details: 'Details',
  mute: 'Ton aus',
  unmute: 'Ton an',
  live_connected: 'live',
  live_lost: 'Verbindung unterbrochen – verbinde neu …',
  new_alarm: 'Neuer Alarm',
  alarm_title: 'Alarm {id}',
  alarm_station: 'Station',
  alarm_started: 'Beginn',
  alarm_resolved: 'Ende',
  alarm_history: 'Verlauf',
  alarm_notifications: 'Benachrichtigungen',
  alarm_no_notifications: 'Niemand wurde benachrichtigt (keine passende Weiterleitung).',
  ev_firing: 'ausgelöst',
  ev_escalated: 'verschärft',
  ev_deescalated: 'abgeschwächt',
  ev_acknowledged: 'quittiert',
  ev_resolved: 'beendet (Entwarnung)',
  ev_closed: 'geschlossen (Regel oder Messstelle geändert, keine Entwarnung)',
  ev_escalated_unacknowledged: 'eskaliert (nicht quittiert)',
  col_time: 'Zeit',
  col_event: 'Ereignis',
  col_by: 'durch',
  col_comment: 'Kommentar',
  col_channel: 'Kanal',
  col_to: 'an',
  col_type: 'Anlass',
  col_delivery: 'Zustellung',
  delivered: 'zugestellt',
  not_delivered: 'nicht zugestellt',
  n_state_pending: 'wartet',
  n_state_sending: 'wird gesendet',
  n_state_held: 'zurückgehalten (Stummschaltung)',
  n_state_failed: 'fehlgeschlagen',
  n_state_delivered: 'zugestellt',
  attempts: '{n} Versuche',
  station_title: 'Station {name}',
  station_last_seen: 'Zuletzt gesehen',
  station_never: 'noch nie',
  station_battery: 'Batterie',
  station_rssi: 'RSSI',
  station_snr: 'SNR',
  station_interval: 'Sendeintervall',
  station_org: 'Kommune',
  station_range: 'Zeitraum',
  station_from: 'von',
  station_to: 'bis',
  station_show: 'Anzeigen',
  station_csv: 'CSV herunterladen',
  station_no_data: 'Keine Messwerte in diesem Zeitraum.',
  station_open_alarms: 'Offene Alarme',
  chart_level: 'Wasserstand',
  chart_rain: 'Niederschlag',
  chart_sum1h: 'Summe 1 h',
  chart_sum6h: 'Summe 6 h',
  chart_flagged: 'markierte Werte (nicht ausgewertet)',
  chart_alarm: 'Alarmzeitraum',
  chart_table: 'Werte als Tabelle',
  meldestufe: 'Meldestufe {n}',
  dwd_level: 'DWD Stufe {n} ({w})',
  threshold: 'Schwelle {sev}',
  users_title: 'Benutzer',
  users_add: 'Benutzer anlegen',
  users_login: 'Benutzername',
  users_name: 'Name',
  users_role: 'Rolle',
  users_org: 'Kommune',
  users_org_all: 'ganze Installation',
  users_password: 'Startpasswort (mindestens 10 Zeichen)',
  users_locked: 'gesperrt bis {t}',
  users_unlock: 'Entsperren',
  users_delete: 'Löschen',
  users_created: 'Benutzer angelegt.',
  audit_title: 'Änderungsprotokoll',
  audit_actor: 'Wer',
  audit_action: 'Was',
  audit_entity: 'Objekt',
  duration_d: '{n} d',
  duration_h: '{n} h',
  duration_min: '{n} min',
  in_window: 'in {w}',
  no_data_since: 'keine Daten seit {n}',
  error_title: 'Fehler',
  error_text: 'Etwas ist schiefgegangen (Anfrage {id}).',
};

export type MessageKey = keyof typeof de;

const en: Record<MessageKey, string> = {
  app: 'Regenwacht',
  skip: 'Skip to content',
  nav_situation: 'Situation',
  nav_users: 'Users',
  nav_audit: 'Audit log',
  nav_password: 'Change password',
  nav_logout: 'Log out',
  nav_lang_other: 'Deutsch',
  nav_wall: 'Wall screen',
  login_title: 'Log in',
  login_login: 'User name',
  login_password: 'Password',
  login_submit: 'Log in',
  login_failed: 'Wrong user name or password.',
  login_locked: 'Too many failed attempts: the account is locked for 15 minutes.',
  login_limited: 'Too many login attempts from this address. Please wait a minute.',
  csrf_failed: 'The form has expired. Reload the page and send it again.',
  pw_title: 'Change password',
  pw_current: 'Current password',
  pw_new: 'New password (at least 10 characters)',
  pw_repeat: 'Repeat new password',
  pw_submit: 'Change password',
  pw_changed: 'Password changed. Other sessions of this account were ended.',
  pw_wrong: 'The current password is wrong.',
  pw_mismatch: 'The two new passwords differ.',
  pw_weak: 'The new password is too short or contains the user name.',
  forbidden_title: 'Forbidden',
  forbidden_text: 'Your role may not open this page.',
  notfound_title: 'Not found',
  notfound_text: 'This page does not exist, or it belongs to another municipality.',
  map_title: 'Station map',
  map_no_tiles: 'No base map: stations and municipality outlines',
  legend: 'Legend',
  status_ok: 'no alarm',
  status_offline: 'offline / stale',
  sev_minor: 'minor',
  sev_moderate: 'moderate',
  sev_severe: 'severe',
  sev_extreme: 'extreme',
  board_title: 'Alarms',
  board_empty: 'No open alarms.',
  board_count: '{n} open alarms',
  col_severity: 'Severity',
  col_rule: 'Rule',
  col_station: 'Station',
  col_value: 'Value / threshold',
  col_running: 'Running',
  col_state: 'State',
  col_acked_by: 'Acknowledged by',
  col_actions: 'Action',
  state_firing: 'firing',
  state_acknowledged: 'acknowledged',
  state_resolved: 'resolved',
  state_closed: 'closed (configuration changed)',
  filter_org: 'Municipality',
  filter_severity: 'Severity',
  filter_state: 'State',
  filter_all: 'all',
  filter_active: 'open',
  filter_apply: 'Filter',
  ack: 'Acknowledge',
  ack_comment: 'Comment (optional)',
  ack_done: 'Alarm acknowledged.',
  ack_resolved: 'The alarm is already resolved.',
  details: 'Details',
  mute: 'Sound off',
  unmute: 'Sound on',
  live_connected: 'live',
  live_lost: 'Connection lost – reconnecting …',
  new_alarm: 'New alarm',
  alarm_title: 'Alarm {id}',
  alarm_station: 'Station',
  alarm_started: 'Started',
  alarm_resolved: 'Ended',
  alarm_history: 'History',
  alarm_notifications: 'Notifications',
  alarm_no_notifications: 'Nobody was notified (no matching route).',
  ev_firing: 'fired',
  ev_escalated: 'escalated',
  ev_deescalated: 'de-escalated',
  ev_acknowledged: 'acknowledged',
  ev_resolved: 'resolved (all clear)',
  ev_closed: 'closed (rule or station changed, not an all-clear)',
  ev_escalated_unacknowledged: 'escalated (not acknowledged)',
  col_time: 'Time',
  col_event: 'Event',
  col_by: 'by',
  col_comment: 'Comment',
  col_channel: 'Channel',
  col_to: 'To',
  col_type: 'Reason',
  col_delivery: 'Delivery',
  delivered: 'delivered',
  not_delivered: 'not delivered',
  n_state_pending: 'waiting',
  n_state_sending: 'sending',
  n_state_held: 'held (silenced)',
  n_state_failed: 'failed',
  n_state_delivered: 'delivered',
  attempts: '{n} attempts',
  station_title: 'Station {name}',
  station_last_seen: 'Last seen',
  station_never: 'never',
  station_battery: 'Battery',
  station_rssi: 'RSSI',
  station_snr: 'SNR',
  station_interval: 'Uplink interval',
  station_org: 'Municipality',
  station_range: 'Range',
  station_from: 'from',
  station_to: 'to',
  station_show: 'Show',
  station_csv: 'Download CSV',
  station_no_data: 'No readings in this range.',
  station_open_alarms: 'Open alarms',
  chart_level: 'Water level',
  chart_rain: 'Rainfall',
  chart_sum1h: '1 h sum',
  chart_sum6h: '6 h sum',
  chart_flagged: 'flagged readings (not evaluated)',
  chart_alarm: 'Alarm period',
  chart_table: 'Values as a table',
  meldestufe: 'Flood stage {n}',
  dwd_level: 'DWD level {n} ({w})',
  threshold: 'Threshold {sev}',
  users_title: 'Users',
  users_add: 'Add user',
  users_login: 'User name',
  users_name: 'Name',
  users_role: 'Role',
  users_org: 'Municipality',
  users_org_all: 'whole installation',
  users_password: 'Initial password (at least 10 characters)',
  users_locked: 'locked until {t}',
  users_unlock: 'Unlock',
  users_delete: 'Delete',
  users_created: 'User created.',
  audit_title: 'Audit log',
  audit_actor: 'Who',
  audit_action: 'What',
  audit_entity: 'Object',
  duration_d: '{n} d',
  duration_h: '{n} h',
  duration_min: '{n} min',
  in_window: 'in {w}',
  no_data_since: 'no data for {n}',
  error_title: 'Error',
  error_text: 'Something went wrong (request {id}).',
};

export const LANGS = ['de', 'en'] as const;
export type Lang = (typeof LANGS)[number];
const CATALOGUE: Record<Lang, Record<MessageKey, string>> = { de, en };

export interface I18n {
  lang: Lang;
  t(key: MessageKey, params?: Record<string, string | number>): string;
  sev(s: Severity): string;
  /** a point in time in Europe/Berlin with its zone, e.g. "30.11.26, 14:05 MEZ" */
  time(iso: string | number | Date | null | undefined): string;
  /** a duration such as "1 h 12 min" */
  duration(ms: number): string;
  num(v: number, digits?: number): string;
}

const made = new Map<Lang, I18n>();

/** The words and formats of one language (made once: Intl formatters are costly to create). */
export function i18n(lang: Lang): I18n {
  let x = made.get(lang);
  if (!x) made.set(lang, (x = makeI18n(lang)));
  return x;
}

function makeI18n(lang: Lang): I18n {
  const cat = CATALOGUE[lang];
  const t = (key: MessageKey, params?: Record<string, string | number>) =>
    params ? cat[key].replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? `{${k}}`)) : cat[key];
  const dtf = new Intl.DateTimeFormat(lang === 'de' ? 'de-DE' : 'en-GB', {
    timeZone: 'Europe/Berlin',
    day: '2-digit',
    month: '2-digit',
    year: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  });
  const nf = new Map<number, Intl.NumberFormat>();
  return {
    lang,
    t,
    sev: (s) => t(`sev_${s}` as MessageKey),
    time: (v) => (v === null || v === undefined ? '–' : dtf.format(new Date(v))),
    duration(ms) {
      const min = Math.max(0, Math.floor(ms / 60_000));
      const d = Math.floor(min / 1440);
      const h = Math.floor((min % 1440) / 60);
      const m = min % 60;
      const parts = [];
      if (d) parts.push(t('duration_d', { n: d }));
      if (h || d) parts.push(t('duration_h', { n: h }));
      parts.push(t('duration_min', { n: m }));
      return parts.join(' ');
    },
    num(v, digits = 1) {
      let f = nf.get(digits);
      if (!f) nf.set(digits, (f = new Intl.NumberFormat(lang === 'de' ? 'de-DE' : 'en-GB', { maximumFractionDigits: digits })));
      return f.format(v);
    },
  };
}

/** ?lang= wins (and is remembered in a cookie), then the cookie, then the browser's Accept-Language. */
export function pickLang(query: string | undefined, cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  for (const c of [query, cookie]) if (c === 'de' || c === 'en') return c;
  const prefs = (acceptLanguage ?? '')
    .split(',')
    .map((p) => {
      const [tag, ...ps] = p.trim().split(';');
      const q = ps.find((x) => x.trim().startsWith('q='));
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((p) => p.tag)
    .sort((a, b) => b.q - a.q);
  for (const p of prefs) {
    if (p.tag.startsWith('de')) return 'de';
    if (p.tag.startsWith('en')) return 'en';
  }
  return 'de';
}
