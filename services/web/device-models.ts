// What the register form says about each device model: what it measures, how it is connected, and which
// parameters it reads (the names ingest uses: derive.ts, codecs/*.ts). [docs/topics.md Device models]
import type { Lang } from './i18n.ts';

export interface ModelParam {
  key: 'mountHeightMm' | 'levelOffsetCm' | 'mmPerTip' | 'deadZoneMm' | 'pMin' | 'pMax' | 'kp';
  unit: string;
  de: string;
  en: string;
}

export interface ModelDoc {
  id: string;
  de: string;
  en: string;
  params: ModelParam[];
}

const P = {
  mountHeightMm: {
    key: 'mountHeightMm',
    unit: 'mm',
    de: 'Einbauhöhe des Sensors über der Sohle / dem Pegelnull',
    en: 'Mounting height of the sensor above the bed / gauge zero',
  },
  levelOffsetCm: { key: 'levelOffsetCm', unit: 'cm', de: 'Versatz, der auf den Wasserstand addiert wird', en: 'Offset added to the water level' },
  deadZoneMm: { key: 'deadZoneMm', unit: 'mm', de: 'Nahbereich, in dem der Sensor nicht misst', en: 'Near range in which the sensor cannot measure' },
  mmPerTip: { key: 'mmPerTip', unit: 'mm', de: 'Niederschlag je Kippung der Wippe (Standard 0,2)', en: 'Rainfall per tip of the bucket (default 0.2)' },
  pMin: { key: 'pMin', unit: 'bar', de: 'Messbereich Anfang (Druck)', en: 'Pressure range start' },
  pMax: { key: 'pMax', unit: 'bar', de: 'Messbereich Ende (Druck)', en: 'Pressure range end' },
  kp: { key: 'kp', unit: '', de: 'Skalierung kp des Drucksensors (Standard 8192)', en: 'Pressure scaling kp (default 8192)' },
} as const satisfies Record<string, ModelParam>;

const level = [P.mountHeightMm, P.levelOffsetCm, P.deadZoneMm];

export const MODEL_DOCS: ModelDoc[] = [
  {
    id: 'generic',
    de: 'Natives JSON auf devices/{id}/up ({"readings": {"rain_mm": 0.4}}) oder ein Uplink eines Netzwerkservers mit bereits dekodiertem Objekt in kanonischen Namen.',
    en: 'Native JSON on devices/{id}/up ({"readings": {"rain_mm": 0.4}}) or a network-server uplink that already carries a decoded object with canonical names.',
    params: [],
  },
  {
    id: 'js-codec',
    de: 'Eigener JavaScript-Codec (decodeUplink wie im TTN-Geräteverzeichnis), unter „Codecs“ hochgeladen und hier ausgewählt; läuft in der Sandbox.',
    en: 'Your own JavaScript codec (decodeUplink as in the TTN device repository), uploaded under “Codecs” and chosen here; runs in the sandbox.',
    params: level,
  },
  {
    id: 'decentlab-dl-mbx',
    de: 'Decentlab DL-MBX: Ultraschall-Abstand zur Wasseroberfläche; Wasserstand = Einbauhöhe − Abstand. LoRaWAN, fPort 1.',
    en: 'Decentlab DL-MBX: ultrasonic distance to the water surface; level = mounting height − distance. LoRaWAN, fPort 1.',
    params: level,
  },
  {
    id: 'decentlab-dl-pr26',
    de: 'Decentlab DL-PR26: Drucksonde im Wasser; Wasserstand aus dem Druck. LoRaWAN, fPort 1.',
    en: 'Decentlab DL-PR26: submerged pressure probe; level from pressure. LoRaWAN, fPort 1.',
    params: [P.pMin, P.pMax, P.levelOffsetCm],
  },
  {
    id: 'decentlab-dl-pr36',
    de: 'Decentlab DL-PR36: Drucksonde (hochauflösend); Wasserstand aus dem Druck. LoRaWAN, fPort 1.',
    en: 'Decentlab DL-PR36: pressure probe (high resolution); level from pressure. LoRaWAN, fPort 1.',
    params: [P.kp, P.levelOffsetCm],
  },
  {
    id: 'decentlab-dl-atm41',
    de: 'Decentlab DL-ATM41: Wetterstation mit Niederschlag, Temperatur und Wind. LoRaWAN, fPort 1.',
    en: 'Decentlab DL-ATM41: weather station with precipitation, temperature and wind. LoRaWAN, fPort 1.',
    params: [],
  },
  {
    id: 'dragino-ldds75',
    de: 'Dragino LDDS75: Ultraschall-Abstand (bis 7,5 m). LoRaWAN, fPort 2.',
    en: 'Dragino LDDS75: ultrasonic distance (up to 7.5 m). LoRaWAN, fPort 2.',
    params: level,
  },
  {
    id: 'dragino-ldds20',
    de: 'Dragino LDDS20: Flüssigkeitsstand durch die Behälterwand. LoRaWAN, fPort 2.',
    en: 'Dragino LDDS20: liquid level through the tank wall. LoRaWAN, fPort 2.',
    params: level,
  },
  {
    id: 'dragino-sn50v3-count',
    de: 'Dragino SN50v3 im Zählmodus an einer Kippwaage: Niederschlag aus dem Zählerstand. LoRaWAN, fPort 2.',
    en: 'Dragino SN50v3 in counting mode on a tipping bucket: rainfall from the counter. LoRaWAN, fPort 2.',
    params: [P.mmPerTip],
  },
  {
    id: 'milesight-em310-udl',
    de: 'Milesight EM310-UDL: Ultraschall-Abstand. LoRaWAN, fPort 85.',
    en: 'Milesight EM310-UDL: ultrasonic distance. LoRaWAN, fPort 85.',
    params: level,
  },
  {
    id: 'milesight-em500-udl',
    de: 'Milesight EM500-UDL: Ultraschall-Abstand. LoRaWAN, fPort 85.',
    en: 'Milesight EM500-UDL: ultrasonic distance. LoRaWAN, fPort 85.',
    params: level,
  },
  {
    id: 'elsys-elt',
    de: 'Elsys ELT: Impulszähler (Kippwaage) oder Abstandssensor, TLV-Format. LoRaWAN, fPort 5 (einstellbar).',
    en: 'Elsys ELT: pulse counter (tipping bucket) or distance sensor, TLV format. LoRaWAN, fPort 5 (configurable).',
    params: [P.mmPerTip, ...level],
  },
  {
    id: 'sensecap-s2120',
    de: 'SenseCAP S2120 8-in-1-Wetterstation: Niederschlag (aufsummiert), Temperatur, Wind. LoRaWAN.',
    en: 'SenseCAP S2120 8-in-1 weather station: accumulated rainfall, temperature, wind. LoRaWAN.',
    params: [],
  },
];

export const modelDoc = (id: string): ModelDoc | undefined => MODEL_DOCS.find((m) => m.id === id);
export const docText = (m: ModelDoc, lang: Lang) => m[lang];
