// Words of the catchments page (Einzugsgebiete; German first, English), kept apart from the page as the rules
// pages keep theirs in i18n/rules.ts. [docs/dwd.md Catchments]
import type { I18n } from '../i18n.ts';

const de = {
  title: 'Einzugsgebiete',
  help: 'Für jedes Einzugsgebiet rechnet Regenwacht die Radarvorhersage des DWD (Regen in den nächsten 30/60/120 min) als Messwerte der Station catchment-<id>.',
  empty: 'Noch kein Einzugsgebiet.',
  col_name: 'Name',
  col_stations: 'Stationen',
  col_buffer: 'Puffer',
  col_threshold: 'Schwelle',
  col_device: 'Vorhersage-Station',
  new: 'Neues Einzugsgebiet',
  id: 'Kennung (a–z, 0–9, -)',
  name: 'Name',
  shape: 'Fläche',
  by_polygon: 'GeoJSON-Polygon',
  by_circle: 'Kreis um Stationen',
  geojson: 'GeoJSON (Polygon, MultiPolygon, Feature oder FeatureCollection, WGS84)',
  geojson_file: 'oder Datei wählen',
  file_too_big: 'GeoJSON über 60 KB: Polygon vereinfachen oder an POST /api/v1/catchments senden',
  stations: 'Stationen (gehören zum Einzugsgebiet; beim Kreis: sein Mittelpunkt)',
  radius: 'Radius (m)',
  buffer: 'Puffer um die Fläche (km)',
  threshold: 'Schwelle für „Minuten bis“ (mm)',
  save: 'Speichern',
  saved: 'Einzugsgebiet {id} gespeichert; Vorhersage-Station {dev}.',
  bad_id: 'Kennung: nur Kleinbuchstaben, Ziffern und -, höchstens 50 Zeichen.',
  bad_name: 'Name fehlt.',
  bad_geojson: 'GeoJSON: {why}',
  bad_number: '{what} ist keine gültige Zahl im erlaubten Bereich.',
  no_stations: 'Für einen Kreis mindestens eine Station wählen.',
  wc_title: 'DWD-Warnungen',
  wc_intro:
    'Der Deutsche Wetterdienst (DWD) gibt seine amtlichen Unwetterwarnungen für Warnzellen heraus; eine Warnzelle ist meist eine Gemeinde. Mit der Warnzelle Ihrer Gemeinde liest Regenwacht die DWD-Warnungen für sie, und Regeln auf DWD-Warnungen lösen daraus Alarme aus.',
  wc_id: 'Warnzellen-ID des DWD für {org}',
  wc_help:
    'Die Warnzellen-ID hat 9 Ziffern: eine 8 und dann der Gemeindeschlüssel (AGS), z. B. 806631009 für die Stadt Fulda. Sie steht in der Warnzellen-Liste des DWD (Spalte WARNCELLID, neben dem Namen der Gemeinde). Feld leer lassen und speichern: die Warnzelle wird hier entfernt; dann gilt die bei der Einrichtung von Regenwacht hinterlegte, falls es eine gibt.',
  wc_list: 'Warnzellen-Liste des DWD (CSV-Tabelle, öffnet sich z. B. mit Excel)',
  wc_you: 'Ihre Gemeinde',
  wc_save: 'Warnzelle speichern',
  wc_saved: 'Warnzelle {id} für {org} gespeichert.',
  wc_cleared: 'Warnzelle für {org} entfernt.',
  wc_bad: 'Die Warnzellen-ID hat genau 9 Ziffern: eine 8 und dann der Gemeindeschlüssel (AGS), z. B. 806631009 für die Stadt Fulda.',
};

export type CatchmentsKey = keyof typeof de;

const en: Record<CatchmentsKey, string> = {
  title: 'Catchments',
  help: 'For every catchment Regenwacht computes the DWD radar nowcast (rain in the next 30/60/120 min) as readings of the station catchment-<id>.',
  empty: 'No catchment yet.',
  col_name: 'Name',
  col_stations: 'Stations',
  col_buffer: 'Buffer',
  col_threshold: 'Threshold',
  col_device: 'Forecast station',
  new: 'New catchment',
  id: 'Id (a–z, 0–9, -)',
  name: 'Name',
  shape: 'Area',
  by_polygon: 'GeoJSON polygon',
  by_circle: 'Circle around stations',
  geojson: 'GeoJSON (Polygon, MultiPolygon, Feature or FeatureCollection, WGS84)',
  geojson_file: 'or choose a file',
  file_too_big: 'GeoJSON > 60 KB: simplify the polygon, or send it to POST /api/v1/catchments',
  stations: 'Stations (belong to the catchment; for a circle: its centre)',
  radius: 'Radius (m)',
  buffer: 'Buffer around the area (km)',
  threshold: 'Threshold for "minutes until" (mm)',
  save: 'Save',
  saved: 'Catchment {id} saved; forecast station {dev}.',
  bad_id: 'Id: lowercase letters, digits and - only, at most 50.',
  bad_name: 'Name is missing.',
  bad_geojson: 'GeoJSON: {why}',
  bad_number: '{what} is not a valid number in the allowed range.',
  no_stations: 'Choose at least one station for a circle.',
  wc_title: 'DWD warnings',
  wc_intro:
    "The German weather service (DWD) issues its official severe-weather warnings per warncell; a warncell is usually one municipality. With your municipality's warncell Regenwacht reads the DWD warnings for it, and rules on DWD warnings raise alarms from them.",
  wc_id: 'DWD warncell id for {org}',
  wc_help:
    "The warncell id has 9 digits: an 8 followed by the municipality key (AGS), e.g. 806631009 for Stadt Fulda. It is in the DWD warncell list (column WARNCELLID, next to the municipality's name). Leave the field empty and save to remove the warncell here; the one set up with Regenwacht then applies, if there is one.",
  wc_list: 'DWD warncell list (CSV table, opens e.g. in Excel)',
  wc_you: 'your municipality',
  wc_save: 'Save warncell',
  wc_saved: 'Warncell {id} saved for {org}.',
  wc_cleared: 'Warncell for {org} removed.',
  wc_bad: 'The warncell id has exactly 9 digits: an 8 followed by the municipality key (AGS), e.g. 806631009 for Stadt Fulda.',
};

const CAT = { de, en };

/** `ct(i)('saved', {id, dev})`: the catchments page's words in the page's language. */
export const ct =
  (i: I18n) =>
  (key: CatchmentsKey, vars: Record<string, string | number> = {}): string =>
    CAT[i.lang === 'en' ? 'en' : 'de'][key].replace(/\{(\w+)\}/g, (_, n: string) => String(vars[n] ?? ''));
