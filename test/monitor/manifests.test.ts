import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

const dir = resolve(import.meta.dirname, '../../monitor');
// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
type Manifest = Record<string, any>;
const load = (file: string) => loadAllYaml(readFileSync(resolve(dir, 'k8s', file), 'utf8')) as Manifest[];

describe('monitor/k8s manifests', () => {
  it('grants get/list on pods and pods/log and nothing else', () => {
    const [account, role, binding] = load('rbac.yaml');
    expect(account).toMatchObject({
      kind: 'ServiceAccount',
      metadata: { name: 'pod-monitor', namespace: 'log-center' },
    });
    expect(role?.kind).toBe('ClusterRole');
    expect(role?.rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] },
    ]);
    expect(binding).toMatchObject({
      kind: 'ClusterRoleBinding',
      roleRef: { kind: 'ClusterRole', name: role?.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: 'pod-monitor', namespace: 'log-center' }],
    });
  });

  it('runs the poller and the CronJob as the service account, non-root, within the seed’s limits', () => {
    const [deployment] = load('deployment.yaml');
    const [cronJob] = load('cronjob.yaml');
    const podSpecs = [deployment?.spec.template.spec, cronJob?.spec.jobTemplate.spec.template.spec];
    for (const spec of podSpecs) {
      expect(spec.serviceAccountName).toBe('pod-monitor');
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      const [container] = spec.containers;
      expect(container.resources).toEqual({
        requests: { memory: '64Mi', cpu: '50m' },
        limits: { memory: '128Mi', cpu: '100m' },
      });
      const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value ?? e.valueFrom]));
      expect(env.LOG_CENTER_TOKEN).toEqual({
        secretKeyRef: { name: 'pod-monitor', key: 'LOG_CENTER_TOKEN' },
      });
      expect(Object.keys(env)).toEqual(
        expect.arrayContaining(['LOG_CENTER_URL', 'MONITOR_NAMESPACE', 'POLL_SECONDS']),
      );
    }
    expect(deployment?.kind).toBe('Deployment');
    expect(podSpecs[0].containers[0].args).toBeUndefined();
    expect(cronJob).toMatchObject({
      kind: 'CronJob',
      spec: { schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid' },
    });
    expect(podSpecs[1].containers[0].args).toEqual(['--once']);
  });

  it('builds an image that runs the bundle as the non-root node user', () => {
    const dockerfile = readFileSync(resolve(dir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-slim AS build$/m);
    expect(dockerfile).toMatch(/^RUN node monitor\/build\.mjs \/out\/monitor\.mjs$/m);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^FROM node:20-slim$/m);
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).not.toMatch(/node_modules/);
  });
});
