import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { UserError } from "./errors.ts";
import { formatIssues, parseYamlFile } from "./profile/load.ts";
import type { KubernetesOptions } from "./runtime/runtime.ts";

/** ./hub.config.yaml: settings that belong to a place (a team's cluster, its plugins), not to a run. */
export const CONFIG_FILE = "hub.config.yaml";

const Quantities = z.record(z.string(), z.string()).describe("Kubernetes quantities, e.g. {cpu: \"2\", memory: 4Gi}");

export const KubernetesConfig = z
  .strictObject({
    namespace: z.string().min(1).optional().describe("Namespace for the Jobs (default: default)"),
    kubeconfig: z.string().optional().describe("Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster credentials)"),
    serviceAccount: z.string().optional().describe("Service account of the harness pods"),
    imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional().describe("Default IfNotPresent; Never for images imported into the node"),
    resources: z.strictObject({ requests: Quantities.optional(), limits: Quantities.optional() }).optional().describe("Container resources of each harness pod"),
    nodeSelector: z.record(z.string(), z.string()).optional(),
    tolerations: z.array(z.record(z.string(), z.unknown())).optional(),
    hostNetwork: z.boolean().optional().describe("Pods use the node's network (default true: reaches a server on the node's loopback)"),
    tokenizerHostPath: z.string().optional().describe("The tokenizer directory on the nodes (default: hub's own path)"),
  })
  .describe("Settings of `--runtime kubernetes`");

export const HubConfig = z.strictObject({
  plugins: z.array(z.string()).default([]).describe("Harness plugins: npm package names or paths relative to this file"),
  kubernetes: KubernetesConfig.optional(),
});

export interface LoadedConfig {
  path: string | null;
  config: z.infer<typeof HubConfig>;
}

/** The config in `cwd`, if there is one; a mistake in it is a UserError naming file and field. */
export function readHubConfig(cwd = process.cwd()): LoadedConfig {
  const path = resolve(cwd, CONFIG_FILE);
  if (!existsSync(path)) return { path: null, config: { plugins: [] } };
  const r = HubConfig.safeParse(parseYamlFile(path, "hub config") ?? {});
  if (!r.success) throw new UserError(`${path}: invalid hub config\n${formatIssues(r.error.issues)}`);
  return { path, config: r.data };
}

export function configDir(loaded: LoadedConfig): string {
  return loaded.path ? dirname(loaded.path) : process.cwd();
}

/** `kubernetes:` from hub.config.yaml (flags override it). */
export function kubernetesConfig(cwd = process.cwd()): KubernetesOptions {
  return (readHubConfig(cwd).config.kubernetes ?? {}) as KubernetesOptions;
}
