import { describe, expect, it } from 'vitest';
import { BUILTIN_MODELS, isKnownModel } from '../ingest/codecs/index.ts';
import { MODEL_DOCS } from './device-models.ts';

describe('model picker documentation', () => {
  it('explains every model the API accepts, in German and English, and nothing else', () => {
    const documented = MODEL_DOCS.map((m) => m.id).sort();
    expect(documented).toEqual(['generic', 'js-codec', ...BUILTIN_MODELS].sort());
    for (const m of MODEL_DOCS) {
      expect(isKnownModel(m.id)).toBe(true);
      expect(m.de.length).toBeGreaterThan(20);
      expect(m.en.length).toBeGreaterThan(20);
    }
  });
});
