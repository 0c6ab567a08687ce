// [docs/api.md] The OpenAPI document is something a client generator can use: valid, every operation summed up
// with its request and response schemas, one error component, examples for the main bodies, no secrets.
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApi, fakeApi } from '../../test/helpers/api-app.ts';

type Op = {
  summary?: string;
  requestBody?: { content: Record<string, { schema: unknown; example?: unknown; examples?: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
type Doc = { openapi: string; paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, any> } };

let api: FakeApi;
let doc: Doc;
const ops = () => Object.entries(doc.paths).flatMap(([p, byMethod]) => Object.entries(byMethod).map(([m, op]) => ({ name: `${m.toUpperCase()} ${p}`, op })));
/** The schema of an operation's answer with its $refs resolved one level. */
const answer = (name: string, status: string) => {
  const op = ops().find((o) => o.name === name)?.op;
  const s = op?.responses[status]?.content?.['application/json']?.schema as { $ref?: string } | undefined;
  return s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!] : s;
};

beforeAll(async () => {
  api = await fakeApi({ console: true });
  const r = await api.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(r.statusCode).toBe(200);
  doc = r.json();
});
afterAll(() => api?.app.close());

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (swagger-parser)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('lists every resource of the API', () => {
    const names = ops().map((o) => o.name);
    expect(names.length).toBeGreaterThan(40);
    for (const p of [
      'rules',
      'routes',
      'silences',
      'alarms',
      'cap/alerts.atom',
      'devices',
      'codecs',
      'mqtt-credentials',
      'tokens',
      'audit',
      'rejected-uplinks',
    ])
      expect(
        names.some((n) => n.includes(`/api/v1/${p}`)),
        p,
      ).toBe(true);
  });

  it('every operation has a summary and a response schema for its success code (204: none)', () => {
    const missing: string[] = [];
    for (const { name, op } of ops()) {
      if (!op.summary?.trim()) missing.push(`${name}: no summary`);
      const ok = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
      if (!ok.length) missing.push(`${name}: no 2xx response`);
      for (const s of ok) if (s !== '204' && !Object.values(op.responses[s].content ?? {})[0]?.schema) missing.push(`${name}: ${s} without a schema`);
    }
    expect(missing).toEqual([]);
  });

  it('the web console is not in the document; every JSON route of it has a response schema', () => {
    // The console answers a browser with a session cookie: HTML pages, form posts (303), live streams (SSE),
    // a CSV download, and the JSON its own scripts read. Not an API for clients, so left out of the document
    // — but a JSON answer, wherever it comes from, is described by a schema.
    const paths = Object.keys(doc.paths);
    const routes = api.consoleRoutes.filter((r) => !r.url.startsWith('/assets/') && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(40);
    const api_ = routes.filter((r) => r.url.startsWith('/api/'));
    expect(api_.map((r) => r.url)).toContain('/api/v1/users');
    for (const r of api_) expect(paths, r.url).toContain(r.url.replace(/:(\w+)/g, '{$1}'));
    const pages = routes.filter((r) => !r.url.startsWith('/api/'));
    expect(pages.filter((r) => paths.includes(r.url.replace(/:(\w+)/g, '{$1}'))).map((r) => r.url)).toEqual([]);
    const json = pages.filter((r) => r.url.endsWith('.json'));
    expect(json.map((r) => r.url).sort()).toEqual(['/stations.json', '/stations/:id/charts.json', '/stations/:id/latest.json']);
    for (const r of json) expect((r.schema?.response as Record<number, unknown> | undefined)?.[200], r.url).toBeTruthy();
  });

  it('creating answers 201 and deleting 204, as the API does', () => {
    for (const { name, op } of ops()) {
      if (/^POST \/api\/v1\/(rules|routes|silences|devices|tokens|mqtt-credentials|users)$/.test(name))
        expect(Object.keys(op.responses), name).toContain('201');
      if (name.startsWith('DELETE ')) expect(Object.keys(op.responses), name).toContain('204');
    }
  });

  it('the error body is one component with its codes, and every /api/v1 operation answers errors with it', () => {
    const err = doc.components.schemas.Error;
    expect(err.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED']),
    );
    const without = ops()
      .filter((o) => /^\w+ \/api\/v1\/(?!orgs\/)/.test(o.name))
      .filter((o) => (Object.values(o.op.responses['4XX']?.content ?? {})[0]?.schema as { $ref?: string })?.$ref !== '#/components/schemas/Error')
      .map((o) => o.name);
    expect(without).toEqual([]);
  });

  it('describes the rule body in full (kinds, levels, presets) instead of an empty object', () => {
    const body = ops().find((o) => o.name === 'POST /api/v1/rules')?.op.requestBody?.content['application/json'];
    const refs = JSON.stringify(body?.schema);
    expect(refs).toContain('RuleBodyInput');
    expect(refs).toContain('PresetBodyInput');
    const rule = doc.components.schemas.RuleBodyInput;
    expect(rule.required).toEqual(expect.arrayContaining(['name', 'kind', 'scope', 'levels']));
    expect(rule.properties.kind.enum).toEqual(expect.arrayContaining(['threshold', 'rate', 'accumulation', 'offline']));
    expect(rule.properties.levels.items.properties.severity.enum).toEqual(['minor', 'moderate', 'severe', 'extreme']);
    expect(doc.components.schemas.PresetBodyInput.properties.preset.enum).toContain('dwd-starkregen');
    const route = ops().find((o) => o.name === 'POST /api/v1/routes')?.op.requestBody?.content['application/json'].schema as any;
    expect((route.properties.targets.items.oneOf ?? route.properties.targets.items.anyOf).length).toBeGreaterThanOrEqual(2);
  });

  it.each(['POST /api/v1/rules', 'POST /api/v1/routes', 'POST /api/v1/silences', 'POST /api/v1/devices', 'POST /api/v1/mqtt-credentials'])(
    '%s shows an example body',
    (name) => {
      const body = ops().find((o) => o.name === name)?.op.requestBody?.content['application/json'];
      expect(body?.example ?? Object.values(body?.examples ?? {})[0], name).toBeTruthy();
    },
  );

  it('answers never carry a token hash, an MQTT password hash or a webhook secret', () => {
    const secretish = /hash/i;
    expect(JSON.stringify(doc.components.schemas)).not.toMatch(secretish);
    expect(Object.keys(answer('GET /api/v1/tokens', '200').properties.items.items.properties)).not.toContain('token');
    expect(Object.keys(answer('GET /api/v1/mqtt-credentials', '200').properties.items.items.properties)).not.toContain('password');
    const webhook = doc.components.schemas.Route.properties.targets.items.oneOf.find((t: any) => t.properties.type.const === 'webhook');
    expect(webhook.properties.secret.const).toBe('whsec_…');
  });
});
