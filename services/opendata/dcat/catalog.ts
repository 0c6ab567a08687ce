// The DCAT-AP.de catalogue of the open data, for GovData and municipal CKAN portals to harvest.
// One dataset per municipality and metric ("Niederschlag – Messstellen Gießen"), each station a distribution:
// GovData turns every dcat:Dataset into a portal entry, and a municipality's rain gauges are one subject for a
// reader; a dataset per station would flood the portal with near-identical entries (and change whenever a
// gauge is added). [docs/opendata.md DCAT-AP.de]
import type { Queryable } from '../../db/db.ts';
import { enabledOrgs, LICENSES, type OpenDataSettings } from '../open-data-settings.ts';
import { type PublicDevice, publicDevices, streamRange } from '../public-store.ts';
import { PUBLISHED_METRICS, type PublishedMetric } from '../sta/vocabulary.ts';
import { dateTime, de, iri, lit, type RdfNode, type Term } from './rdf.ts';

const EU = 'http://publications.europa.eu/resource/authority';
const DCATDE_GEO = 'http://dcat-ap.de/def/politicalGeocoding';
const IANA = 'https://www.iana.org/assignments/media-types';
const GEOJSON = `${IANA}/application/vnd.geo+json`;

export interface CatalogInput {
  publicUrl: string;
  /** 12-digit Amtlicher Regionalschlüssel per org (CAP_ARS) */
  ars: Readonly<Record<string, string>>;
  now: Date;
}

interface Stream {
  device: PublicDevice;
  metric: PublishedMetric;
  first: Date;
  last: Date;
}

/** What the catalogue describes: each enabled municipality with its public streams. */
export async function catalogData(db: Queryable): Promise<Array<{ settings: OpenDataSettings; streams: Stream[] }>> {
  const out = [];
  for (const settings of await enabledOrgs(db)) {
    const streams: Stream[] = [];
    for (const device of await publicDevices(db, settings.org)) {
      for (const metric of PUBLISHED_METRICS) {
        const r = await streamRange(db, device.id, metric.metric);
        if (r.first && r.last) streams.push({ device, metric, first: r.first, last: r.last });
      }
    }
    out.push({ settings, streams });
  }
  return out;
}

/** AGS (8 digits) from the ARS (12 digits): Land, Regierungsbezirk, Kreis, then the Gemeinde without the Verband. */
export const agsOf = (ars: string) => `${ars.slice(0, 5)}${ars.slice(9, 12)}`;

export function catalogGraph(data: Awaited<ReturnType<typeof catalogData>>, input: CatalogInput): RdfNode[] {
  const base = input.publicUrl;
  const cat = `${base}/dcat/catalog`;
  const nodes: RdfNode[] = [];
  const datasets: Term[] = [];
  const month = input.now.toISOString().slice(0, 7);
  const year = input.now.toISOString().slice(0, 4);
  for (const { settings, streams } of data) {
    const org = settings.org;
    const name = settings.publisher ?? org;
    const license = LICENSES[settings.license] ?? { uri: settings.license, title: settings.license };
    const publisher = `${cat}#publisher-${org}`;
    nodes.push({ id: publisher, types: ['foaf:Organization'], props: [['foaf:name', de(name)]] });
    const contact = `${cat}#contact-${org}`;
    if (settings.contact) {
      const how: Term = settings.contact.includes('@') ? iri(`mailto:${settings.contact}`) : iri(settings.contact);
      nodes.push({
        id: contact,
        types: ['vcard:Organization'],
        props: [
          ['vcard:fn', de(name)],
          [settings.contact.includes('@') ? 'vcard:hasEmail' : 'vcard:hasURL', how],
        ],
      });
    }
    const ars = Object.hasOwn(input.ars, org) ? input.ars[org] : undefined;
    for (const metric of PUBLISHED_METRICS) {
      const mine = streams.filter((s) => s.metric.metric === metric.metric);
      if (!mine.length) continue;
      const id = `${cat}#dataset-${org}-${metric.metric}`;
      datasets.push(iri(id));
      const first = new Date(Math.min(...mine.map((s) => s.first.getTime())));
      const last = new Date(Math.max(...mine.map((s) => s.last.getTime())));
      const licenseProps: Array<[string, Term]> = [
        ['dct:license', iri(license.uri)],
        ['dcatde:licenseAttributionByText', de(name)],
      ];
      const dists: Term[] = [];
      const dist = (key: string, title: string, url: string, format: string, media: string, extra: Array<[string, Term]> = []) => {
        const did = `${id}-${key}`;
        dists.push(iri(did));
        nodes.push({
          id: did,
          types: ['dcat:Distribution'],
          props: [
            ['dct:title', de(title)],
            ['dcat:accessURL', iri(url)],
            ...(format !== 'JSON' ? ([['dcat:downloadURL', iri(url)]] as Array<[string, Term]>) : []),
            ['dct:format', iri(`${EU}/file-type/${format}`)],
            ['dcat:mediaType', iri(`${IANA}/${media}`)],
            ...licenseProps,
            ...extra,
          ],
        });
      };
      const filter = `ObservedProperty/@iot.id eq '${metric.metric}' and Thing/properties/municipality eq '${org}'`;
      dist(
        'sta',
        `${metric.name}: SensorThings API (OGC, JSON)`,
        `${base}/sta/v1.1/Datastreams?$filter=${encodeURIComponent(filter)}`,
        'JSON',
        'application/json',
        [['dct:conformsTo', iri('http://www.opengis.net/doc/is/sensorthings/1.1')]],
      );
      for (const s of mine)
        dist(
          `csv-${s.device.id}`,
          `${s.device.name}: ${metric.name} ${year} (CSV)`,
          `${base}/open/downloads/${s.device.id}/${metric.metric}/${year}.csv`,
          'CSV',
          'text/csv',
        );
      dist('zip', `Alle Messstellen, ${month} (ZIP mit CSV-Dateien)`, `${base}/open/downloads/${org}/${month}.zip`, 'ZIP', 'application/zip');

      const area = `${id}-area`;
      const points = mine.filter((s) => s.device.location).map((s) => [s.device.location!.lon, s.device.location!.lat]);
      nodes.push({ id: area, types: ['dct:Location'], props: [['locn:geometry', lit(JSON.stringify({ type: 'MultiPoint', coordinates: points }), GEOJSON)]] });
      const period = `${id}-period`;
      nodes.push({
        id: period,
        types: ['dct:PeriodOfTime'],
        props: [
          ['dcat:startDate', dateTime(first)],
          ['dcat:endDate', dateTime(last)],
        ],
      });
      const spatial: Term[] = [iri(area)];
      const geo: Array<[string, Term | Term[]]> = [];
      if (ars) {
        const uris = [iri(`${DCATDE_GEO}/regionalKey/${ars}`), iri(`${DCATDE_GEO}/municipalityKey/${agsOf(ars)}`)];
        spatial.push(...uris);
        geo.push(
          ['dcatde:politicalGeocodingURI', uris],
          ['dcatde:politicalGeocodingLevelURI', iri('http://dcat-ap.de/def/politicalGeocodingLevel/municipality')],
        );
      }
      nodes.push({
        id,
        types: ['dcat:Dataset'],
        props: [
          ['dct:title', de(`${metric.name} – Messstellen ${name}`)],
          [
            'dct:description',
            de(
              `${metric.description}. Messwerte von ${mine.length} öffentlichen Messstellen (${name}), alle 5 bis 15 Minuten, qualitätsgeprüft; für Starkregen- und Hochwasserfrühwarnung erhoben.`,
            ),
          ],
          ['dct:identifier', lit(`regenwacht:${org}:${metric.metric}`)],
          ['dct:publisher', iri(publisher)],
          ...(settings.contact ? ([['dcat:contactPoint', iri(contact)]] as Array<[string, Term]>) : []),
          ['dcat:theme', [iri(`${EU}/data-theme/ENVI`), iri(`${EU}/data-theme/REGI`)]],
          ['dcat:keyword', [de(metric.name), de('Starkregen'), de('Hochwasser'), de('Messstelle'), de('Sensor'), lit('SensorThings')]],
          ['dct:spatial', spatial],
          ...geo,
          ['dct:temporal', iri(period)],
          ['dct:accrualPeriodicity', iri(`${EU}/frequency/CONT`)],
          ['dct:language', iri(`${EU}/language/DEU`)],
          ['dct:issued', dateTime(new Date(settings.updatedAt))],
          ['dct:modified', dateTime(last)],
          ['dcat:distribution', dists],
          ['dcat:landingPage', iri(`${base}/sta/v1.1/ObservedProperties('${metric.metric}')/Datastreams`)],
        ],
      });
    }
  }
  // changed when a reading or a setting last changed, so a harvester sees the same catalogue until then
  const modified = new Date(Math.max(0, ...data.map((d) => Date.parse(d.settings.updatedAt)), ...data.flatMap((d) => d.streams.map((s) => s.last.getTime()))));
  nodes.unshift({
    id: cat,
    types: ['dcat:Catalog'],
    props: [
      ['dct:title', de('Regenwacht – offene Messdaten')],
      ['dct:description', de('Niederschlag, Wasserstand und Temperatur der öffentlichen Messstellen der teilnehmenden Kommunen')],
      ['dct:publisher', iri(data[0] ? `${cat}#publisher-${data[0].settings.org}` : `${cat}#publisher`)],
      ['foaf:homepage', iri(`${base}/sta/v1.1`)],
      ['dct:language', iri(`${EU}/language/DEU`)],
      ['dct:modified', dateTime(modified)],
      ...(datasets.length ? ([['dcat:dataset', datasets]] as Array<[string, Term | Term[]]>) : []),
    ],
  });
  if (!data[0]) nodes.push({ id: `${cat}#publisher`, types: ['foaf:Organization'], props: [['foaf:name', de('Regenwacht')]] });
  return nodes;
}
