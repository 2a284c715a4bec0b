import { existsSync } from 'node:fs';
import {
  ApiException,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  type V1Pod,
  type V1PodList,
} from '@kubernetes/client-node';
import type { NamespaceScope } from './config';
import { describeError } from './log';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

// Large enough that most clusters answer in one page, small enough to bound one response.
const PAGE_SIZE = 500;
const MAX_PAGES = 1000;

export type KubeConfigSource = 'in-cluster' | 'kubeconfig';

/**
 * The usual resolution: an explicit `KUBECONFIG` wins (it is a deliberate override); inside a pod the
 * mounted service-account token is used; otherwise `~/.kube/config`.
 */
export function loadKubeConfig(): { kubeConfig: KubeConfig; source: KubeConfigSource } {
  const kubeConfig = new KubeConfig();
  const env = process.env;
  if (!env.KUBECONFIG && env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kubeConfig.loadFromCluster();
    return { kubeConfig, source: 'in-cluster' };
  }
  kubeConfig.loadFromDefault();
  return { kubeConfig, source: 'kubeconfig' };
}

/** A Kubernetes API failure with the server's own explanation (its `Status.message`) when it sent one. */
export class KubeRequestError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

function toKubeError(what: string, error: unknown): KubeRequestError {
  if (error instanceof ApiException) {
    const body = error.body as { message?: unknown } | string | undefined;
    const detail =
      typeof body === 'string' ? body.slice(0, 300) : typeof body?.message === 'string' ? body.message : '';
    return new KubeRequestError(error.code, `${what}: HTTP ${error.code}${detail ? ` ${detail}` : ''}`);
  }
  return new KubeRequestError(undefined, `${what}: ${describeError(error)}`);
}

export interface PodListing {
  pods: V1Pod[];
  /** Namespaces (or `*`) whose listing failed; the pods of the others are still returned. */
  failures: { namespace: string; error: KubeRequestError }[];
}

export interface PodSource {
  listPods(scope: NamespaceScope): Promise<PodListing>;
  readLog(
    namespace: string,
    pod: string,
    container: string,
    options: { previous: boolean; tailLines: number },
  ): Promise<string>;
}

/** Pods and their logs through `@kubernetes/client-node`'s CoreV1Api. */
export class KubePodSource implements PodSource {
  private readonly api: CoreV1Api;

  constructor(kubeConfig: KubeConfig, timeoutMs: number) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    // Built by hand rather than with makeApiClient so every request carries a timeout: a hung API
    // server would otherwise stall the poll loop forever.
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [
        {
          pre: async (context) => {
            context.setSignal(AbortSignal.timeout(timeoutMs));
            return context;
          },
          post: async (context) => context,
        },
      ],
    });
    this.api = new CoreV1Api(configuration);
  }

  private async listAll(page: (cont: string | undefined) => Promise<V1PodList>): Promise<V1Pod[]> {
    const pods: V1Pod[] = [];
    let cont: string | undefined;
    // The page cap only guards against a server that keeps handing out continue tokens.
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const list = await page(cont);
      pods.push(...(Array.isArray(list.items) ? list.items : []));
      cont = list.metadata?._continue || undefined;
      if (!cont) break;
    }
    return pods;
  }

  async listPods(scope: NamespaceScope): Promise<PodListing> {
    if (scope === '*') {
      try {
        const pods = await this.listAll((cont) =>
          this.api.listPodForAllNamespaces({ limit: PAGE_SIZE, _continue: cont }),
        );
        return { pods, failures: [] };
      } catch (error) {
        return {
          pods: [],
          failures: [{ namespace: '*', error: toKubeError('list pods in all namespaces', error) }],
        };
      }
    }
    const listing: PodListing = { pods: [], failures: [] };
    for (const namespace of scope) {
      try {
        listing.pods.push(
          ...(await this.listAll((cont) =>
            this.api.listNamespacedPod({ namespace, limit: PAGE_SIZE, _continue: cont }),
          )),
        );
      } catch (error) {
        listing.failures.push({
          namespace,
          error: toKubeError(`list pods in namespace ${namespace}`, error),
        });
      }
    }
    return listing;
  }

  async readLog(
    namespace: string,
    pod: string,
    container: string,
    options: { previous: boolean; tailLines: number },
  ): Promise<string> {
    try {
      const log = await this.api.readNamespacedPodLog({
        namespace,
        name: pod,
        container,
        previous: options.previous,
        tailLines: options.tailLines,
      });
      return typeof log === 'string' ? log : '';
    } catch (error) {
      throw toKubeError(
        `read ${options.previous ? 'previous ' : ''}log of ${namespace}/${pod}/${container}`,
        error,
      );
    }
  }
}
