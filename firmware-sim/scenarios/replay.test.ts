import { describe, expect, it } from 'vitest';
import { parseReplayCsv, replayScenario } from './replay.ts';

const CSV = `time,device,metric,value
2024-01-03T10:00:00Z,pegel-a,level_cm,540
2024-01-03T10:00:00Z,gauge-1,rain_mm,0
2024-01-03T10:15:00Z,gauge-1,rain_mm,1.2
2024-01-03T10:15:00Z,pegel-a,level_cm,560
2024-01-03T10:30:00Z,gauge-1,rain_mm,2.4
2024-01-03T10:30:00Z,gauge-1,battery_v,3.4
`;

describe('replay', () => {
  it('maps CSV devices in order of appearance, accumulates rain, keeps offsets', () => {
    const sc = replayScenario(parseReplayCsv(CSV));
    expect(sc.deviceNames).toEqual(['pegel-a', 'gauge-1']);
    expect(sc.spanMs).toBe(30 * 60_000);
    expect(sc.offsets!(1)).toEqual([0, 15 * 60_000, 30 * 60_000]);
    expect(sc.truth(1, 30 * 60_000)).toMatchObject({ rainCumMm: 3.6, batteryV: 3.4 });
    expect(sc.truth(0, 15 * 60_000)).toMatchObject({ levelCm: 560 });
  });

  it('bad rows are named by line', () => {
    expect(() => parseReplayCsv('time,device,metric,value\nnope,a,rain_mm,1')).toThrow(/line 2: bad time "nope"/);
    expect(() => parseReplayCsv('2024-01-01T00:00:00Z,a,snow_cm,1')).toThrow(/metric "snow_cm"/);
  });
});
