// Checks the deployment artifacts without a cluster, for CI:
//   1. `kubectl kustomize` renders deploy/overlays/dev and deploy/overlays/prod;
//   2. every rendered object validates against the Kubernetes schemas (kubernetes-models) or the
//      prometheus-operator schemas (@kubernetes-models/prometheus-operator): types, required
//      fields, formats, enums (these schemas do not reject unknown fields);
//   3. every Switchboard workload keeps the rules the README promises: non-root, read-only root
//      filesystem with /tmp mounted, all capabilities dropped, requests and memory limits, probes;
//   4. compose.yaml validates with `docker-compose config` (Debian's docker-compose).
// The metric names the alerts and the dashboard use are checked by test/deploy-metrics.test.ts.
//
//   node_modules/.bin/node scripts/check-deploy.ts      # exit 0: PASS, 1: FAIL (each problem printed)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

// CHECK_DEPLOY_ROOT: check another copy (how the checks were shown to fail on broken files).
const ROOT = process.env.CHECK_DEPLOY_ROOT ?? path.resolve(import.meta.dirname, '..');
const OVERLAYS = ['dev', 'prod'];
const problems: string[] = [];
const fail = (what: string) => problems.push(what);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML, checked field by field below
  spec?: any;
}

/** The model class for an object: kubernetes-models for built-in kinds, the operator's for its CRDs. */
async function modelFor(object: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : ['', object.apiVersion];
  const module =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  const models = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
  const model = models[object.kind];
  if (!model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  return model;
}

async function validateSchema(object: K8sObject): Promise<string | null> {
  // kustomize folds long base64 Secret values over lines; the API server's decoder (Go's
  // encoding/base64) skips line breaks, the schema's "byte" format does not: unfold them first.
  if (object.kind === 'Secret' && 'data' in object) {
    const data = (object as { data: Record<string, string> }).data;
    for (const key of Object.keys(data)) data[key] = String(data[key]).replace(/[\r\n]/g, '');
  }
  try {
    const Model = await modelFor(object);
    new Model(object).validate();
    return null;
  } catch (error) {
    return (error as Error).message.split('\n').slice(0, 5).join(' ');
  }
}

/** The pod template of a workload we ship, or null for other objects. */
function podSpec(object: K8sObject) {
  if (!['Deployment', 'Job'].includes(object.kind)) return null;
  if (object.metadata.labels?.['app.kubernetes.io/part-of'] !== 'switchboard') return null;
  return object.spec.template.spec;
}

function checkWorkload(where: string, object: K8sObject): void {
  const pod = podSpec(object);
  if (!pod) return;
  const name = `${where} ${object.kind}/${object.metadata.name}`;
  if (pod.securityContext?.runAsNonRoot !== true) fail(`${name}: runAsNonRoot is not true`);
  if (pod.automountServiceAccountToken !== false) fail(`${name}: mounts a service account token`);
  const emptyDirs = new Set(
    (pod.volumes ?? [])
      .filter((v: { emptyDir?: unknown }) => v.emptyDir)
      .map((v: { name: string }) => v.name),
  );
  for (const container of pod.containers) {
    const at = `${name} container ${container.name}`;
    const security = container.securityContext ?? {};
    if (security.readOnlyRootFilesystem !== true) fail(`${at}: root filesystem is writable`);
    if (security.allowPrivilegeEscalation !== false) fail(`${at}: allowPrivilegeEscalation is not false`);
    if (JSON.stringify(security.capabilities?.drop) !== '["ALL"]')
      fail(`${at}: capabilities not all dropped`);
    const tmp = (container.volumeMounts ?? []).find((m: { mountPath: string }) => m.mountPath === '/tmp');
    if (!tmp || !emptyDirs.has(tmp.name)) fail(`${at}: no emptyDir at /tmp`);
    const resources = container.resources ?? {};
    if (!resources.requests?.cpu || !resources.requests?.memory) fail(`${at}: no CPU and memory requests`);
    if (!resources.limits?.memory) fail(`${at}: no memory limit`);
    if (object.kind === 'Deployment') {
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        if (!container[probe]) fail(`${at}: no ${probe}`);
      }
      if (container.readinessProbe?.httpGet?.path !== '/health/ready')
        fail(`${at}: readiness is not /health/ready`);
      if (container.livenessProbe?.httpGet?.path !== '/health/live')
        fail(`${at}: liveness is not /health/live`);
    }
  }
}

/** Proves the schema check is not a no-op: a Deployment with replicas "two" must be refused. */
async function selfTest(): Promise<void> {
  const bad = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'bad' },
    spec: { replicas: 'two', selector: {}, template: {} },
  };
  if ((await validateSchema(bad)) === null) fail('self-test: the schema check accepted replicas: "two"');
}

async function checkOverlay(overlay: string): Promise<void> {
  const dir = path.join(ROOT, 'deploy', 'overlays', overlay);
  const rendered = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (rendered.error || rendered.status !== 0) {
    fail(`kubectl kustomize ${overlay}: ${rendered.error?.message ?? rendered.stderr.trim()}`);
    return;
  }
  const objects = parseAllDocuments(rendered.stdout).map((doc) => doc.toJSON() as K8sObject);
  const kinds = new Map<string, number>();
  for (const object of objects) {
    kinds.set(object.kind, (kinds.get(object.kind) ?? 0) + 1);
    const invalid = await validateSchema(object);
    if (invalid) fail(`${overlay} ${object.kind}/${object.metadata?.name}: ${invalid}`);
    checkWorkload(overlay, object);
  }
  const summary = [...kinds].map(([kind, n]) => `${n} ${kind}`).join(', ');
  console.log(`${overlay}: ${objects.length} objects rendered and validated (${summary})`);
}

/** docker-compose needs the env file and secret files to exist: dummies in a scratch copy. */
function checkCompose(): void {
  const scratch = mkdtempSync(path.join(tmpdir(), 'compose-check-'));
  try {
    copyFileSync(path.join(ROOT, 'compose.yaml'), path.join(scratch, 'compose.yaml'));
    writeFileSync(path.join(scratch, '.env'), '');
    mkdirSync(path.join(scratch, 'secrets'));
    for (const secret of ['postgres_password', 'database_url', 'admin_api_token'])
      writeFileSync(path.join(scratch, 'secrets', secret), 'x\n');
    for (const args of [[], ['--profile', 'notebooks']]) {
      const result = spawnSync('docker-compose', ['-f', 'compose.yaml', ...args, 'config', '-q'], {
        cwd: scratch,
        encoding: 'utf8',
      });
      if (result.error) {
        fail(`docker-compose not found (apt-get install docker-compose): ${result.error.message}`);
        return;
      }
      if (result.status !== 0)
        fail(`compose.yaml${args.length ? ` (${args.join(' ')})` : ''}: ${result.stderr.trim()}`);
    }
    console.log('compose.yaml: valid (docker-compose config, with and without the notebooks profile)');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await selfTest();
for (const overlay of OVERLAYS) await checkOverlay(overlay);
checkCompose();
if (problems.length) {
  console.log(`\nFAIL: ${problems.length} problem(s)`);
  for (const problem of problems) console.log(`  - ${problem}`);
  process.exit(1);
}
console.log('\nPASS');
