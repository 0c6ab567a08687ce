// [issue 18] The deployment files say what docs/operations.md says: docker-compose.ha.yml (EMQX cluster of
// two, two Regenwacht in one $share group, TimescaleDB primary + replica) and deploy/k8s/ (Deployment of two
// with probes, PodDisruptionBudget, Service, Secret references); every Regenwacht setting in them is one
// that `loadConfig` accepts. (`docker-compose -f docker-compose.ha.yml config -q` runs in .ci/run.)
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig } from '../services/config.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');

/** `${X:-default}` → default, `${X:?msg}` → a placeholder, as docker-compose would with X unset. */
function substitute(v: unknown): string {
  return String(v)
    .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
    .replace(/\$\{[A-Z_]+:\?[^}]*\}/g, 'placeholder-0123456789abcdef');
}

describe('docker-compose.ha.yml', () => {
  const doc = parseYaml(read('docker-compose.ha.yml'), { merge: true });
  const services = doc.services as Record<string, any>;

  it('runs an EMQX 5 cluster of two that knows both nodes', () => {
    const emqx = Object.entries(services).filter(([, s]) => String(s.image).startsWith('emqx/emqx:5'));
    expect(emqx.map(([n]) => n).sort()).toEqual(['emqx1', 'emqx2']);
    for (const [, s] of emqx) {
      expect(s.environment.EMQX_CLUSTER__DISCOVERY_STRATEGY).toBe('static');
      const seeds = s.environment.EMQX_CLUSTER__STATIC__SEEDS as string;
      for (const [, other] of emqx) expect(seeds).toContain(other.environment.EMQX_NODE__NAME);
      expect(s.healthcheck).toBeDefined();
    }
  });

  it('runs two Regenwacht instances in one $share group on one database, each on another broker node, ready by /readyz', () => {
    const rw = Object.entries(services).filter(([, s]) => s.build === '.');
    expect(rw).toHaveLength(2);
    const envs = rw.map(([, s]) => Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, substitute(v)])));
    expect(new Set(envs.map((e) => e.UPSTREAM_SHARE_GROUP)).size).toBe(1);
    expect(new Set(envs.map((e) => e.DATABASE_URL)).size).toBe(1);
    expect(new Set(envs.map((e) => e.UPSTREAM_MQTT_URL)).size).toBe(2);
    for (const e of envs) {
      const c = loadConfig(e);
      expect(c.upstream?.shareGroup).toBe('regenwacht');
      expect(new URL(c.databaseUrl!).hostname).toBe('timescaledb');
      expect(['emqx1', 'emqx2']).toContain(new URL(c.upstream!.url).hostname);
      expect(c.mqttPort).toBe('off');
    }
    for (const [, s] of rw) {
      expect(JSON.stringify(s.healthcheck.test)).toContain('/readyz');
      expect(Object.keys(s.depends_on).sort()).toEqual(['emqx1', 'emqx2', 'timescaledb']);
      // longer than the drain (≤ 10 s), so docker never SIGKILLs a draining instance
      expect(Number.parseInt(s.stop_grace_period, 10)).toBeGreaterThan(10);
    }
  });

  it('runs TimescaleDB as a primary that allows replication and a replica cloned from it', () => {
    const primary = services.timescaledb;
    const replica = services['timescaledb-replica'];
    expect(primary.image).toMatch(/^timescale\/timescaledb:/);
    expect(replica.image).toBe(primary.image);
    const init = (primary.volumes as string[]).find((v) => v.includes('docker-entrypoint-initdb.d'))!;
    const script = read(init.split(':')[0]);
    expect(script).toMatch(/create role replicator with replication/);
    expect(script).toMatch(/host replication replicator/);
    expect(replica.command.join('\n')).toMatch(/pg_basebackup -h timescaledb -U replicator .* -R -X stream/);
  });
});

describe('deploy/k8s', () => {
  const docs = fs
    .readdirSync(path.join(ROOT, 'deploy/k8s'))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => parseAllDocuments(read(`deploy/k8s/${f}`)).map((d) => d.toJS()))
    .filter(Boolean);
  const of = (kind: string) => docs.filter((d) => d.kind === kind);
  const deployment = of('Deployment')[0];
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  const labels = pod.metadata.labels as Record<string, string>;
  const selects = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);

  it('has a Deployment of two that never takes both down in a rolling update', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(10);
  });

  it('probes readiness at /readyz and liveness at /healthz on the HTTP port', () => {
    const http = container.ports.find((p: { name: string }) => p.name === 'http');
    const cm = of('ConfigMap')[0].data;
    expect(String(http.containerPort)).toBe(cm.HTTP_PORT);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // a /readyz answer may wait for the database's connect timeout (5 s)
    expect(container.readinessProbe.timeoutSeconds).toBeGreaterThan(5);
  });

  it('takes secrets from one Secret by reference and the rest from the ConfigMap; together a valid configuration', () => {
    const refs = container.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.valueFrom.secretKeyRef);
    expect(refs.map((r: { key: string }) => r.key).sort()).toEqual(['admin-token', 'database-url', 'upstream-mqtt-password']);
    expect(new Set(refs.map((r: { name: string }) => r.name))).toEqual(new Set(['regenwacht']));
    expect(of('Secret')).toEqual([]); // no secret values in the repository
    expect(container.envFrom[0].configMapRef.name).toBe(of('ConfigMap')[0].metadata.name);
    const placeholder: Record<string, string> = {
      DATABASE_URL: 'postgres://regenwacht:x@db:5432/regenwacht',
      ADMIN_TOKEN: 'placeholder-0123456789abcdef',
      UPSTREAM_MQTT_PASSWORD: 'x',
    };
    const env = { ...of('ConfigMap')[0].data, ...Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? placeholder[e.name]])) };
    const c = loadConfig(env);
    expect(c.upstream?.shareGroup).toBeTruthy();
    expect(c.databaseUrl).toBeDefined();
  });

  it('has a PodDisruptionBudget keeping one and a Service, both selecting the pods', () => {
    const pdb = of('PodDisruptionBudget')[0];
    expect(pdb.spec.minAvailable).toBe(1);
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
    const svc = of('Service')[0];
    expect(selects(svc.spec.selector)).toBe(true);
    expect(svc.spec.ports[0].targetPort).toBe('http');
  });
});
