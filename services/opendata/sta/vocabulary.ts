// What open data publishes of each metric and device model: names, definition URIs, units, datasheets.
// Device health (battery, radio) and raw sensor values (distance, pressure) stay internal: the level derived
// from them is published. [issue 15]

export interface PublishedMetric {
  metric: string;
  name: string;
  description: string;
  /** ObservedProperty definition: a CF standard name or a QUDT quantity kind */
  definition: string;
  unit: { name: string; symbol: string; definition: string };
}

export const PUBLISHED_METRICS: readonly PublishedMetric[] = [
  {
    metric: 'rain_mm',
    name: 'Niederschlag',
    description: 'Niederschlagshöhe seit der vorherigen Messung (Kippwaage), in Millimetern (= l/m²)',
    definition: 'http://vocab.nerc.ac.uk/standard_name/lwe_thickness_of_precipitation_amount/',
    unit: { name: 'Millimetre', symbol: 'mm', definition: 'http://qudt.org/vocab/unit/MilliM' },
  },
  {
    metric: 'level_cm',
    name: 'Wasserstand',
    description: 'Wasserstand über dem Pegelnullpunkt der Messstelle, in Zentimetern',
    definition: 'http://vocab.nerc.ac.uk/standard_name/water_surface_height_above_reference_datum/',
    unit: { name: 'Centimetre', symbol: 'cm', definition: 'http://qudt.org/vocab/unit/CentiM' },
  },
  {
    metric: 'temperature_c',
    name: 'Temperatur',
    description: 'Luft- oder Sensortemperatur an der Messstelle, in Grad Celsius',
    definition: 'http://qudt.org/vocab/quantitykind/Temperature',
    unit: { name: 'Degree Celsius', symbol: '°C', definition: 'http://qudt.org/vocab/unit/DEG_C' },
  },
];

export const publishedMetric = (m: string): PublishedMetric | undefined => PUBLISHED_METRICS.find((x) => x.metric === m);

const TTN = 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor';

/** Sensor descriptions by device model; the link is the device's entry in the TTN device repository, which links the vendor's datasheet. */
export const SENSORS: Record<string, { name: string; description: string; metadata: string }> = {
  'decentlab-dl-mbx': { name: 'Decentlab DL-MBX', description: 'Ultraschall-Abstandssensor (LoRaWAN)', metadata: `${TTN}/decentlab/dl-mbx.yaml` },
  'decentlab-dl-pr26': { name: 'Decentlab DL-PR26', description: 'Drucksonde für Wasserstand (LoRaWAN)', metadata: `${TTN}/decentlab/dl-pr26.yaml` },
  'decentlab-dl-pr36': {
    name: 'Decentlab DL-PR36',
    description: 'Hochgenaue Drucksonde für Wasserstand (LoRaWAN)',
    metadata: `${TTN}/decentlab/dl-pr36.yaml`,
  },
  'decentlab-dl-atm41': { name: 'Decentlab DL-ATM41', description: 'Wetterstation (LoRaWAN)', metadata: `${TTN}/decentlab/dl-atm41.yaml` },
  'dragino-ldds75': { name: 'Dragino LDDS75', description: 'Ultraschall-Abstandssensor (LoRaWAN)', metadata: `${TTN}/dragino/ldds75.yaml` },
  'dragino-ldds20': { name: 'Dragino LDDS20', description: 'Ultraschall-Füllstandssensor (LoRaWAN)', metadata: `${TTN}/dragino/ldds20.yaml` },
  'dragino-sn50v3-count': {
    name: 'Dragino SN50v3-LB mit Kippwaage',
    description: 'Zählender LoRaWAN-Knoten an einem Kippwaagen-Regenmesser',
    metadata: `${TTN}/dragino/sn50v3-lb.yaml`,
  },
  'milesight-em310-udl': { name: 'Milesight EM310-UDL', description: 'Ultraschall-Abstandssensor (LoRaWAN)', metadata: `${TTN}/milesight-iot/em310-udl.yaml` },
  'milesight-em500-udl': { name: 'Milesight EM500-UDL', description: 'Ultraschall-Abstandssensor (LoRaWAN)', metadata: `${TTN}/milesight-iot/em500-udl.yaml` },
  'elsys-elt': { name: 'Elsys ELT-2 / ELT Lite', description: 'LoRaWAN-Knoten mit Kippwaage oder Ultraschallsensor', metadata: `${TTN}/elsys/elt-2.yaml` },
  'sensecap-s2120': { name: 'SenseCAP S2120', description: '8-in-1-Wetterstation (LoRaWAN)', metadata: `${TTN}/sensecap/sensecaps2120-8-in-1.yaml` },
  generic: {
    name: 'Messgerät (generisch)',
    description: 'IP-angebundenes Messgerät, das Messwerte als JSON sendet',
    metadata: 'https://github.com/regenwacht',
  },
  'js-codec': {
    name: 'LoRaWAN-Messgerät',
    description: 'LoRaWAN-Messgerät mit eigenem Decoder',
    metadata: 'https://github.com/TheThingsNetwork/lorawan-devices',
  },
};

export const OM_MEASUREMENT = 'http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement';
