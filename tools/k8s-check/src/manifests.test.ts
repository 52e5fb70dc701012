import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { queueKeys } from '@taskq/queue';
import {
  flagValue,
  isApi,
  isWorker,
  KUSTOMIZATION_FILE,
  loadManifests,
  mainContainer,
  manifestFiles,
  probePort,
  readDocuments,
  REPO_ROOT,
  SECRETS_FILE,
  toModel,
  valueLocationQueue,
  workerQueues,
} from './manifests';

const manifests = loadManifests();
const models = manifests.map((m) => m.model);
const deployments = models.filter((m): m is Deployment => m instanceof Deployment);
const workers = deployments.filter(isWorker);
const apis = deployments.filter(isApi);
const services = models.filter((m): m is Service => m instanceof Service);
const scaledObjects = models.filter((m): m is ScaledObject => m instanceof ScaledObject);
const triggerAuths = models.filter((m): m is TriggerAuthentication => m instanceof TriggerAuthentication);
const secrets = models.filter((m): m is Secret => m instanceof Secret);

/** Secret name → its key names, from secrets.example.yaml. */
const secretKeys = new Map(secrets.map((s) => [s.metadata?.name ?? '', new Set(Object.keys({ ...s.data, ...s.stringData }))]));

/** The environment variables the apps read, from their sources (so a rename there breaks this test). */
function envNamesFromSource(): { redisUrl: string; adminTokens: string; readTokens: string } {
  const cli = readFileSync(join(REPO_ROOT, 'libs/app-kit/src/cli.ts'), 'utf8');
  const redisUrl = /default: process\.env\['([A-Z_]+)'\] \?\? DEFAULT_REDIS_URL/.exec(cli)?.[1];
  const auth = readFileSync(join(REPO_ROOT, 'apps/api/src/auth.ts'), 'utf8');
  const tokens = /TOKEN_ENV = \{ admin: '([A-Z_]+)', read: '([A-Z_]+)' \}/.exec(auth);
  if (redisUrl === undefined || tokens === null) throw new Error('the apps\' environment variable names were not found in their sources');
  return { redisUrl, adminTokens: tokens[1] ?? '', readTokens: tokens[2] ?? '' };
}
const ENV = envNamesFromSource();

function secretRefOf(d: Deployment, envName: string): { name: string; key: string } | undefined {
  const ref = mainContainer(d).env?.find((e) => e.name === envName)?.valueFrom?.secretKeyRef;
  return ref === undefined ? undefined : { name: ref.name ?? '', key: ref.key };
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

describe('docker/k8s: each document against its schema', () => {
  test('the directory holds the expected kinds', () => {
    expect(workers.length).toBeGreaterThanOrEqual(1);
    expect(apis).toHaveLength(1);
    expect(services).toHaveLength(1);
    expect(scaledObjects.length).toBe(workers.length);
    expect(secrets.map((s) => s.metadata?.name).sort()).toEqual(['taskq-api-tokens', 'taskq-redis']);
  });

  test.each(manifests.map((m) => [m.where, m] as const))('%s validates (kubernetes-models / @kubernetes-models/keda)', (_where, m) => {
    expect(() => m.model.validate()).not.toThrow();
  });

  test('validation is not a formality: a wrong type or a missing field is refused', () => {
    const worker = readDocuments('worker-deployment.yaml')[0] as { spec: { template: { spec: Record<string, unknown> } } };
    const broken = structuredClone(worker);
    broken.spec.template.spec['terminationGracePeriodSeconds'] = '35s';
    expect(() => toModel(broken, 'broken').validate()).toThrow(/terminationGracePeriodSeconds must be integer/);
    const keda = readDocuments('keda.yaml').find((d) => d['kind'] === 'ScaledObject') as { spec: Record<string, unknown> };
    const noTarget = structuredClone(keda);
    delete noTarget.spec['scaleTargetRef'];
    expect(() => toModel(noTarget, 'noTarget').validate()).toThrow(/scaleTargetRef/);
  });

  test('kustomization.yaml lists every manifest but the example Secrets, in the one namespace all of them name', () => {
    const [k] = readDocuments(KUSTOMIZATION_FILE);
    expect(k?.['kind']).toBe('Kustomization');
    expect(new Set(k?.['resources'] as string[])).toEqual(new Set(manifestFiles().filter((f) => f !== SECRETS_FILE)));
    const namespace = k?.['namespace'];
    for (const m of manifests) {
      if (m.model.kind === 'Namespace') expect(m.model.metadata?.name).toBe(namespace);
      else expect([m.where, m.model.metadata?.namespace]).toEqual([m.where, namespace]);
    }
  });
});

describe('docker/k8s: invariants between the documents', () => {
  test.each(deployments.map((d) => [d.metadata?.name, d] as const))('%s: the selector matches its pod labels and no other Deployment\'s', (_name, d) => {
    expect(matches(d.spec?.selector.matchLabels, d.spec?.template.metadata?.labels)).toBe(true);
    for (const other of deployments.filter((o) => o !== d)) expect(matches(d.spec?.selector.matchLabels, other.spec?.template.metadata?.labels)).toBe(false);
  });

  test('the API Service selects the API pods only, and its targetPort is a port the API container declares', () => {
    const [svc] = services;
    const [api] = apis;
    if (svc === undefined || api === undefined) throw new Error('no API Service or Deployment');
    expect(deployments.filter((d) => matches(svc.spec?.selector, d.spec?.template.metadata?.labels)).map((d) => d.metadata?.name)).toEqual([api.metadata?.name]);
    const c = mainContainer(api);
    for (const p of svc.spec?.ports ?? []) {
      expect(probePort(c, { httpGet: { port: p.targetPort ?? p.port } })).toBe(Number(flagValue(c.args ?? [], 'port')));
    }
  });

  test.each(workers.map((d) => [d.metadata?.name, d] as const))('%s: terminationGracePeriodSeconds × 1000 > --grace-ms, both stated', (_name, d) => {
    const grace = flagValue(mainContainer(d).args ?? [], 'grace-ms');
    expect(grace).toMatch(/^\d+$/);
    const period = d.spec?.template.spec?.terminationGracePeriodSeconds;
    expect(typeof period).toBe('number');
    expect((period as number) * 1000).toBeGreaterThan(Number(grace));
  });

  test.each(workers.map((d) => [d.metadata?.name, d] as const))('%s: probes on the --metrics-port the container declares: readiness /readyz, liveness /healthz', (_name, d) => {
    const c = mainContainer(d);
    const metricsPort = Number(flagValue(c.args ?? [], 'metrics-port'));
    expect(metricsPort).toBeGreaterThan(0);
    expect(probePort(c, c.readinessProbe)).toBe(metricsPort);
    expect(probePort(c, c.livenessProbe)).toBe(metricsPort);
    // the worker's paths (apps/worker/src/metrics.ts; tools/integration/src/metrics.test.ts pins them;
    // run.test.ts asks the running worker): liveness must not be /readyz, or a Redis outage restarts every worker
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
  });

  test('the API: probes on the --port it declares, /readyz and /healthz', () => {
    const c = mainContainer(apis[0]);
    const port = Number(flagValue(c.args ?? [], 'port'));
    expect(probePort(c, c.readinessProbe)).toBe(port);
    expect(probePort(c, c.livenessProbe)).toBe(port);
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
  });

  test.each(deployments.map((d) => [d.metadata?.name, d] as const))('%s: image, non-root, read-only root, requests and limits', (_name, d) => {
    const pod = d.spec?.template.spec;
    const c = mainContainer(d);
    expect(c.image).toBe('taskq:latest');
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(pod?.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
    for (const kind of ['requests', 'limits'] as const) {
      expect(c.resources?.[kind]?.['cpu']).toBeDefined();
      expect(c.resources?.[kind]?.['memory']).toBeDefined();
    }
  });

  test('Redis and the API tokens come from Secrets, under the names the apps read, by keys the Secrets have', () => {
    for (const d of deployments) expect([d.metadata?.name, secretRefOf(d, ENV.redisUrl)]).toEqual([d.metadata?.name, { name: 'taskq-redis', key: 'url' }]);
    const api = apis[0];
    expect(secretRefOf(api, ENV.adminTokens)).toBeDefined();
    expect(secretRefOf(api, ENV.readTokens)).toBeDefined();
    for (const d of deployments) {
      for (const e of mainContainer(d).env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref === undefined) continue;
        expect([d.metadata?.name, e.name, secretKeys.get(ref.name ?? '')?.has(ref.key)]).toEqual([d.metadata?.name, e.name, true]);
      }
    }
    for (const a of triggerAuths) {
      for (const ref of a.spec?.secretTargetRef ?? []) {
        expect([a.metadata?.name, ref.parameter, secretKeys.get(ref.name)?.has(ref.key)]).toEqual([a.metadata?.name, ref.parameter, true]);
      }
    }
  });

  test.each(workers.map((d) => [d.metadata?.name, d] as const))('%s: one ScaledObject targets it by name, min >= 1, with both triggers for every queue it serves', (_name, d) => {
    const name = d.metadata?.name;
    const targeting = scaledObjects.filter((s) => s.spec?.scaleTargetRef.name === name);
    expect(targeting).toHaveLength(1);
    const so = targeting[0];
    expect(so.spec?.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
    expect(so.spec?.scaleTargetRef.apiVersion ?? 'apps/v1').toBe('apps/v1');
    // 0 would strand Delayed/Retrying tasks and schedules: only a worker promotes or fires them
    expect(so.spec?.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(so.spec?.maxReplicaCount).toBeGreaterThanOrEqual(so.spec?.minReplicaCount ?? 0);

    const triggers = so.spec?.triggers ?? [];
    const redisQueues = triggers.filter((t) => t.type === 'redis').map((t) => t.metadata['listName']);
    const apiQueues = triggers.filter((t) => t.type === 'metrics-api').map((t) => valueLocationQueue(t.metadata['valueLocation'] ?? ''));
    expect(triggers.every((t) => t.type === 'redis' || t.type === 'metrics-api')).toBe(true);
    const queues = workerQueues(mainContainer(d).args ?? []);
    // the ready list's key as libs/queue names it
    expect(redisQueues.sort()).toEqual(queues.map((q) => queueKeys(q).ready).sort());
    expect(apiQueues.sort()).toEqual([...queues].sort());
    // the same target per replica for a queue's two triggers
    for (const q of queues) {
      const list = triggers.find((t) => t.type === 'redis' && t.metadata['listName'] === queueKeys(q).ready);
      const api = triggers.find((t) => t.type === 'metrics-api' && valueLocationQueue(t.metadata['valueLocation'] ?? '') === q);
      expect([q, list?.metadata['listLength']]).toEqual([q, api?.metadata['targetValue']]);
    }
  });

  test('the triggers authenticate through TriggerAuthentications that exist: Redis by address and password, the API by the read token the API accepts', () => {
    const byName = new Map(triggerAuths.map((a) => [a.metadata?.name, a]));
    const apiRead = secretRefOf(apis[0], ENV.readTokens);
    const svc = services[0];
    const svcPort = svc.spec?.ports?.[0]?.port;
    for (const so of scaledObjects) {
      for (const t of so.spec?.triggers ?? []) {
        const auth = byName.get(t.authenticationRef?.name);
        expect([t.name, auth]).not.toEqual([t.name, undefined]);
        const params = new Map((auth?.spec?.secretTargetRef ?? []).map((r) => [r.parameter, r]));
        if (t.type === 'redis') {
          expect(params.has('address')).toBe(true);
          expect(params.get('password')?.name).toBe('taskq-redis');
          // the scaler has no URL: its address must be given apart from it
          expect(t.metadata['address'] ?? t.metadata['host']).toBeUndefined();
        } else {
          expect(t.metadata['authMode']).toBe('bearer');
          expect({ name: params.get('token')?.name, key: params.get('token')?.key }).toEqual(apiRead);
          // KEDA runs in its own namespace: the Service by its full name, on the Service's port, GET /queues
          expect(t.metadata['url']).toBe(`http://${svc.metadata?.name}.${svc.metadata?.namespace}.svc.cluster.local:${svcPort}/queues`);
        }
      }
    }
  });
});
