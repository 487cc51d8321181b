/**
 * The connection to a cluster: which kubeconfig (hub's option, $KUBECONFIG, ~/.kube/config, then a
 * pod's service account), which namespace, and API calls that never wait unbounded.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { UserError } from "../../errors.ts";
import type { KubernetesOptions } from "../runtime.ts";

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** How long hub waits for the API server to answer at all. */
export const CONNECT_TIMEOUT_MS = 5000;
/** An ordinary API call (create, read, list, delete). */
export const CALL_TIMEOUT_MS = 15_000;
const LOCAL_CLUSTER_HINT = "for the local test cluster: bash scripts/kube-cluster.sh up";

export class KubernetesUnavailableError extends UserError {
  override name = "KubernetesUnavailableError";
}

export interface KubeTarget {
  kc: k8s.KubeConfig;
  /** Where the configuration came from, for messages: a file path or "in-cluster service account". */
  source: string;
  server: string;
  namespace: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function fromFile(kc: k8s.KubeConfig, file: string, what: string): void {
  if (!existsSync(file)) throw new UserError(`${what} ${file} does not exist`);
  try {
    kc.loadFromFile(file);
  } catch (e) {
    throw new UserError(`${what} ${file} cannot be read: ${(e as Error).message}`);
  }
}

/** The kubeconfig, in kubectl's order, with the in-cluster service account last. */
export function loadKubeConfig(options: KubernetesOptions = {}): KubeTarget {
  const kc = new k8s.KubeConfig();
  let source: string;
  let inClusterNamespace: string | undefined;
  const envFiles = (process.env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  const home = join(homedir(), ".kube", "config");
  if (options.kubeconfig) {
    fromFile(kc, options.kubeconfig, "kubeconfig");
    source = options.kubeconfig;
  } else if (envFiles.length > 0) {
    const present = envFiles.filter((f) => existsSync(f));
    if (present.length === 0) throw new UserError(`KUBECONFIG names no existing file (${process.env.KUBECONFIG})`);
    if (present.length === 1) fromFile(kc, present[0]!, "kubeconfig (KUBECONFIG)");
    // Several files: client-node merges them as kubectl does.
    else kc.loadFromDefault();
    source = present.join(delimiter);
  } else if (existsSync(home)) {
    fromFile(kc, home, "kubeconfig");
    source = home;
  } else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, "token"))) {
    kc.loadFromCluster();
    source = "in-cluster service account";
    inClusterNamespace = readFileSync(join(SERVICE_ACCOUNT_DIR, "namespace"), "utf8").trim() || undefined;
  } else {
    throw new KubernetesUnavailableError(
      `no Kubernetes configuration: give kubernetes.kubeconfig (--kubeconfig), set KUBECONFIG, or create ~/.kube/config (${LOCAL_CLUSTER_HINT})`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError(`kubeconfig ${source} has no current context with a cluster`);
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace = options.namespace ?? contextNamespace ?? inClusterNamespace ?? "default";
  if (!DNS_LABEL.test(namespace)) throw new UserError(`"${namespace}" is not a valid Kubernetes namespace name`);
  return { kc, source, server: cluster.server, namespace };
}

/**
 * Per-call options that bound a request: client-node's generated APIs take middleware that can
 * set the request's abort signal. (The generated types name the Observable middleware.)
 */
export function within(ms: number): k8s.ConfigurationOptions {
  const pass = <T>(v: T) => new k8s.Observable(Promise.resolve(v));
  return {
    middleware: [
      {
        pre: (ctx: k8s.RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return pass(ctx);
        },
        post: (res: k8s.ResponseContext) => pass(res),
      },
    ],
    middlewareMergeStrategy: "append",
  } as unknown as k8s.ConfigurationOptions;
}

/** What went wrong in an API call: the HTTP status when the server answered, and its message. */
export interface ApiFailure {
  status?: number;
  reason?: string;
  message: string;
}

export function apiFailure(e: unknown): ApiFailure {
  if (e instanceof k8s.ApiException) {
    const body = typeof e.body === "string" ? safeJson(e.body) : e.body;
    const status = body as { message?: string; reason?: string } | undefined;
    return { status: e.code, ...(status?.reason ? { reason: status.reason } : {}), message: status?.message ?? `HTTP ${e.code}` };
  }
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return { message: "no answer in time" };
  const cause = err?.cause?.code ?? err?.cause?.message;
  return { message: `${err?.message ?? String(e)}${cause ? ` (${cause})` : ""}` };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.trim().slice(0, 300) || undefined };
  }
}

export const isNotFound = (e: unknown) => apiFailure(e).status === 404;

/** The clients one runtime uses, against one namespace. */
export class KubeClient {
  readonly target: KubeTarget;
  readonly core: k8s.CoreV1Api;
  readonly batch: k8s.BatchV1Api;
  readonly authz: k8s.AuthorizationV1Api;

  constructor(target: KubeTarget) {
    this.target = target;
    this.core = target.kc.makeApiClient(k8s.CoreV1Api);
    this.batch = target.kc.makeApiClient(k8s.BatchV1Api);
    this.authz = target.kc.makeApiClient(k8s.AuthorizationV1Api);
  }

  get kc(): k8s.KubeConfig {
    return this.target.kc;
  }

  get namespace(): string {
    return this.target.namespace;
  }

  /** Where this client points, for messages. */
  describe(): string {
    return `${this.target.server} (kubeconfig ${this.target.source})`;
  }
}

/**
 * A client whose API server has answered within CONNECT_TIMEOUT_MS; the server's version. An
 * unreachable or refusing server is a KubernetesUnavailableError (a UserError) naming it.
 */
export async function connectCluster(options: KubernetesOptions = {}): Promise<{ client: KubeClient; version: string }> {
  const client = new KubeClient(loadKubeConfig(options));
  try {
    const info = await client.kc.makeApiClient(k8s.VersionApi).getCode(within(CONNECT_TIMEOUT_MS));
    return { client, version: info.gitVersion };
  } catch (e) {
    const f = apiFailure(e);
    const why = f.status === 401 || f.status === 403 ? `it refused hub's credentials (${f.message})` : f.message === "no answer in time" ? `no answer within ${CONNECT_TIMEOUT_MS / 1000} s` : f.message;
    throw new KubernetesUnavailableError(`cannot reach the Kubernetes API server at ${client.describe()}: ${why}. Is the cluster running? (${LOCAL_CLUSTER_HINT})`);
  }
}

/** What hub does in the namespace; each must be allowed. */
const NEEDED: { verb: string; resource: string; group?: string; subresource?: string }[] = [
  { verb: "create", resource: "jobs", group: "batch" },
  { verb: "delete", resource: "jobs", group: "batch" },
  { verb: "create", resource: "configmaps" },
  { verb: "list", resource: "pods" },
  { verb: "get", resource: "pods", subresource: "log" },
  { verb: "create", resource: "pods", subresource: "exec" },
];

/**
 * The namespace exists and hub may do there what a run needs: a UserError naming the namespace
 * otherwise. A user who may not read Namespace objects (common with namespaced roles) is not
 * refused for that alone.
 */
export async function checkNamespace(client: KubeClient, opts: { secrets?: boolean } = {}): Promise<void> {
  const ns = client.namespace;
  try {
    await client.core.readNamespace({ name: ns }, within(CALL_TIMEOUT_MS));
  } catch (e) {
    const f = apiFailure(e);
    if (f.status === 404) throw new UserError(`Kubernetes namespace "${ns}" does not exist on ${client.target.server} (create it, or pick another with kubernetes.namespace / --namespace)`);
    if (f.status !== 403) throw new UserError(`cannot read Kubernetes namespace "${ns}": ${f.message}`);
  }
  const needed = [...NEEDED, ...(opts.secrets ? [{ verb: "create", resource: "secrets" }] : [])];
  const denied = (
    await Promise.all(
      needed.map(async (n) => {
        const review = await client.authz.createSelfSubjectAccessReview(
          { body: { spec: { resourceAttributes: { namespace: ns, verb: n.verb, resource: n.resource, ...(n.group ? { group: n.group } : {}), ...(n.subresource ? { subresource: n.subresource } : {}) } } } },
          within(CALL_TIMEOUT_MS),
        );
        return review.status?.allowed ? undefined : `${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ""}`;
      }),
    ).catch((e) => {
      throw new UserError(`cannot check hub's permissions in Kubernetes namespace "${ns}": ${apiFailure(e).message}`);
    })
  ).filter((d): d is string => d !== undefined);
  if (denied.length > 0) throw new UserError(`Kubernetes namespace "${ns}" is forbidden to hub's credentials (${client.target.source}): it may not ${denied.join(", ")}`);
}
