import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { DEFAULT_QUEUE } from '@taskq/queue';

/** The repository's root (the image's WORKDIR /app holds the same layout: apps/<app>/dist/main.js). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const K8S_DIR = join(REPO_ROOT, 'docker', 'k8s');
/** The Secrets the manifests expect, with placeholder values: not applied, but the source of the key names. */
export const SECRETS_FILE = 'secrets.example.yaml';
export const KUSTOMIZATION_FILE = 'kustomization.yaml';

/** The models this directory may hold, by `apiVersion kind`. */
const MODELS = {
  'v1 Namespace': Namespace,
  'v1 Secret': Secret,
  'v1 Service': Service,
  'apps/v1 Deployment': Deployment,
  'keda.sh/v1alpha1 ScaledObject': ScaledObject,
  'keda.sh/v1alpha1 TriggerAuthentication': TriggerAuthentication,
} as const;

export type Model = Namespace | Secret | Service | Deployment | ScaledObject | TriggerAuthentication;

export interface Manifest {
  /** `<file>#<index of the document in it>`, for messages. */
  readonly where: string;
  readonly file: string;
  readonly raw: Record<string, unknown>;
  readonly model: Model;
}

/** Every YAML document of a file; a YAML error throws, naming the file. */
export function readDocuments(file: string): Record<string, unknown>[] {
  const text = readFileSync(join(K8S_DIR, file), 'utf8');
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${file}#${i}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const data: unknown = doc.toJS();
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${file}#${i}: not a mapping`);
    return data as Record<string, unknown>;
  });
}

/** Builds the kubernetes-models / KEDA model of a document; an apiVersion/kind this directory should not hold throws. */
export function toModel(raw: Record<string, unknown>, where: string): Model {
  const key = `${String(raw['apiVersion'])} ${String(raw['kind'])}`;
  if (!(key in MODELS)) throw new Error(`${where}: unexpected ${key} (known: ${Object.keys(MODELS).join(', ')})`);
  const Ctor = MODELS[key as keyof typeof MODELS];
  // the constructors take their own interface; the document is checked by validate()
  return new Ctor(raw as never);
}

/** The YAML files of docker/k8s other than the kustomization. */
export function manifestFiles(): string[] {
  return readdirSync(K8S_DIR)
    .filter((f) => f.endsWith('.yaml') && f !== KUSTOMIZATION_FILE)
    .sort();
}

export function loadManifests(files: readonly string[] = manifestFiles()): Manifest[] {
  return files.flatMap((file) => readDocuments(file).map((raw, i) => ({ where: `${file}#${i}`, file, raw, model: toModel(raw, `${file}#${i}`) })));
}

/** The value after `--name` (or of `--name=value`) in a container's args; undefined when absent. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === `--${name}`) return args[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/** The args with the value of `--name` replaced (the flag must be there). */
export function withFlag(args: readonly string[], name: string, value: string): string[] {
  const i = args.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= args.length) throw new Error(`--${name} <value> is not in ${JSON.stringify(args)}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

/** The queues a worker container serves: the names of `--queues a:3,b:1`, else `--queue`, else the apps' default queue. */
export function workerQueues(args: readonly string[]): string[] {
  const several = flagValue(args, 'queues');
  if (several !== undefined) return several.split(',').map((entry) => entry.split(':')[0] ?? '');
  return [flagValue(args, 'queue') ?? DEFAULT_QUEUE];
}

/** Whether a Deployment runs the worker app (by its container's command). */
export function isWorker(d: Deployment): boolean {
  return mainContainer(d).command?.join(' ') === 'node apps/worker/dist/main.js';
}

export function isApi(d: Deployment): boolean {
  return mainContainer(d).command?.join(' ') === 'node apps/api/dist/main.js';
}

/** The Deployment's one container (these manifests have one per pod). */
export function mainContainer(d: Deployment): IContainer {
  const containers = d.spec?.template.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`${d.metadata?.name}: expected one container, found ${containers.length}`);
  return containers[0];
}

/** The container port number a probe's httpGet port (a name or a number) resolves to; undefined when the container declares no such port. */
export function probePort(c: IContainer, probe: IProbe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  if (port === undefined) return undefined;
  const declared = (c.ports ?? []).find((p) => (typeof port === 'number' ? p.containerPort === port : p.name === port));
  return declared?.containerPort;
}

/**
 * The value KEDA's metrics-api trigger reads, for the one GJSON form these
 * manifests use: `queues.#(queue=="<name>").ready` (the array element whose
 * `queue` is the name, then its `ready`). Another form throws: this checker
 * would have to learn it first.
 */
export function evalValueLocation(location: string, body: unknown): number | undefined {
  const m = /^queues\.#\(queue=="([A-Za-z0-9_.:-]+)"\)\.ready$/.exec(location);
  if (!m) throw new Error(`valueLocation ${JSON.stringify(location)} is not of the form queues.#(queue=="<name>").ready`);
  const queues = (body as { queues?: { queue?: string; ready?: number }[] }).queues ?? [];
  return queues.find((q) => q.queue === m[1])?.ready;
}

/** The queue a valueLocation names. */
export function valueLocationQueue(location: string): string | undefined {
  return /^queues\.#\(queue=="([^"]+)"\)\.ready$/.exec(location)?.[1];
}
