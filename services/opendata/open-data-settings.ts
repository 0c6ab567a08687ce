// Which municipalities publish open data, under which licence and by whom; SQL of the org_open_data table.
// [docs/opendata.md] [migrations/011_open_data.sql]
import type { Queryable } from '../db/db.ts';

/** Datenlizenz Deutschland – Namensnennung – Version 2.0, the licence GovData recommends for municipal data. */
export const DEFAULT_LICENSE = 'dl-de/by-2-0';

/** Licence ids GovData's DCAT-AP.de vocabulary knows, with their URIs (https://www.dcat-ap.de/def/licenses/). */
export const LICENSES: Record<string, { uri: string; title: string }> = {
  'dl-de/by-2-0': { uri: 'http://dcat-ap.de/def/licenses/dl-by-de/2.0', title: 'Datenlizenz Deutschland – Namensnennung – Version 2.0' },
  'dl-de/zero-2-0': { uri: 'http://dcat-ap.de/def/licenses/dl-zero-de/2.0', title: 'Datenlizenz Deutschland – Zero – Version 2.0' },
  'cc-by/4.0': { uri: 'http://dcat-ap.de/def/licenses/cc-by/4.0', title: 'Creative Commons Namensnennung – 4.0 International (CC BY 4.0)' },
  'cc-zero': { uri: 'http://dcat-ap.de/def/licenses/cc-zero', title: 'Creative Commons CC Zero License (cc-zero)' },
};

export interface OpenDataSettings {
  org: string;
  enabled: boolean;
  license: string;
  publisher: string | null;
  contact: string | null;
  updatedAt: string;
}

interface Row {
  org: string;
  enabled: boolean;
  license: string;
  publisher: string | null;
  contact: string | null;
  updated_at: Date;
}

const toSettings = (r: Row): OpenDataSettings => ({
  org: r.org,
  enabled: r.enabled,
  license: r.license,
  publisher: r.publisher,
  contact: r.contact,
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** An org never configured: nothing published. */
export const closedSettings = (org: string): OpenDataSettings => ({
  org,
  enabled: false,
  license: DEFAULT_LICENSE,
  publisher: null,
  contact: null,
  updatedAt: new Date(0).toISOString(),
});

export async function getOpenData(db: Queryable, org: string): Promise<OpenDataSettings> {
  const r = await db.query<Row>('select * from org_open_data where org = $1', [org]);
  return r.rows[0] ? toSettings(r.rows[0]) : closedSettings(org);
}

/** Every municipality with open data switched on. */
export async function enabledOrgs(db: Queryable): Promise<OpenDataSettings[]> {
  const r = await db.query<Row>('select * from org_open_data where enabled order by org');
  return r.rows.map(toSettings);
}

export async function putOpenData(db: Queryable, s: Omit<OpenDataSettings, 'updatedAt'>): Promise<OpenDataSettings> {
  const r = await db.query<Row>(
    `insert into org_open_data(org, enabled, license, publisher, contact, updated_at) values ($1, $2, $3, $4, $5, now())
     on conflict (org) do update set enabled = excluded.enabled, license = excluded.license, publisher = excluded.publisher,
       contact = excluded.contact, updated_at = now()
     returning *`,
    [s.org, s.enabled, s.license, s.publisher, s.contact],
  );
  return toSettings(r.rows[0]);
}
