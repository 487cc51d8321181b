/**
 * The Kubernetes runtime: manifests, the tar reader and pod diagnosis without a cluster; then Jobs
 * on a real one (scripts/kube-cluster.sh up) with a stand-in harness (test/fixtures/kubernetes/
 * fake_worker.py) in the base image, so that every case takes seconds.
 *
 * The cluster is found through the kubeconfig hub would use ($KUBECONFIG, ~/.kube/config), else
 * the one kube-cluster.sh writes. The image ($HUB_KUBE_TEST_IMAGE, default hub-base:trixie) must be
 * on the node: `bash scripts/kube-cluster.sh import hub-base:trixie`. Without a cluster the
 * cluster tests are skipped on a developer machine, with the reason, and fail in CI.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.ts";
import { connectCluster, loadKubeConfig, type KubeClient } from "../../src/runtime/kubernetes/client.ts";
import { diagnose } from "../../src/runtime/kubernetes/diagnose.ts";
import { gc } from "../../src/runtime/kubernetes/gc.ts";
import { clusterStatus, createKubernetesRuntime } from "../../src/runtime/kubernetes/index.ts";
import { buildJob, jobName, labelValue, LABELS, runSelector, type JobPlan } from "../../src/runtime/kubernetes/job.ts";
import { TarExtractor } from "../../src/runtime/kubernetes/tar.ts";
import type { ExecRequest, KubernetesOptions, WorkerResult } from "../../src/runtime/runtime.ts";
import { fakeHarness } from "../fixtures/harness/fake.ts";

const IN_CI = process.env.CI === "true" || process.env.CI === "1";
const FAKE_WORKER = fileURLToPath(new URL("../fixtures/kubernetes/fake_worker.py", import.meta.url));
const IMAGE = process.env.HUB_KUBE_TEST_IMAGE ?? "hub-base:trixie";
const SCRIPT_KUBECONFIG = join(process.env.HUB_CI_CACHE ?? join(homedir(), ".cache", "harness-hub-ci"), "kube", "run", "kubeconfig");
/** hub's own resolution first; the test cluster's kubeconfig when there is none. */
const KUBE: KubernetesOptions =
  !process.env.KUBECONFIG && !existsSync(join(homedir(), ".kube", "config")) && existsSync(SCRIPT_KUBECONFIG) ? { kubeconfig: SCRIPT_KUBECONFIG } : {};

const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `hub-kube-${name}-`));

// --- without a cluster -----------------------------------------------------------------------

describe("kubernetes runtime: manifests", () => {
  const plan = (over: Partial<JobPlan> = {}): JobPlan => ({
    name: "hub-x-abc123",
    namespace: "default",
    runId: "20260101-120000-guidellm-Sanity_profile",
    harness: "guidellm",
    image: "harness-hub/guidellm:0.8.1",
    workers: [0, 1, 2].map(() => ({ argv: ["guidellm"], env: {}, files: {}, hostFiles: {} })),
    tokenizerHostPath: "/srv/tok",
    options: {},
    ...over,
  });

  it("makes one Indexed Job, one pod per worker, no retries, labelled with the run", () => {
    const job = buildJob(plan({ secretName: "hub-x-abc123" }));
    expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 3, parallelism: 3, backoffLimitPerIndex: 0 });
    expect(job.metadata?.labels?.[LABELS.runId]).toBe("20260101-120000-guidellm-Sanity_profile");
    expect(job.spec?.template.metadata?.labels?.[LABELS.harness]).toBe("guidellm");
    const pod = job.spec!.template.spec!;
    expect(pod).toMatchObject({ restartPolicy: "Never", hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet", automountServiceAccountToken: false });
    const c = pod.containers[0]!;
    expect(c.imagePullPolicy).toBe("IfNotPresent");
    expect(c.command?.slice(0, 2)).toEqual(["python3", "-c"]);
    expect(c.command?.at(-1)).toBe("launch");
    // The API key is a reference to the Secret, never a value in the spec.
    expect(c.env?.find((e) => e.name === "OPENAI_API_KEY")).toEqual({ name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "hub-x-abc123", key: "OPENAI_API_KEY" } } });
    expect(JSON.stringify(job)).not.toMatch(/sk-/);
    expect(c.volumeMounts?.map((m) => [m.mountPath, m.readOnly ?? false])).toEqual([["/results", false], ["/hub/config", true], ["/tokenizer", true]]);
    expect(pod.volumes?.find((v) => v.name === "tokenizer")?.hostPath).toEqual({ path: "/srv/tok", type: "Directory" });
  });

  it("takes resources, scheduling and networking from the options", () => {
    const options: KubernetesOptions = {
      hostNetwork: false,
      imagePullPolicy: "Never",
      serviceAccount: "bench",
      resources: { requests: { cpu: "1" }, limits: { memory: "2Gi" } },
      nodeSelector: { pool: "bench" },
      tolerations: [{ key: "gpu", operator: "Exists" }],
    };
    const pod = buildJob(plan({ options })).spec!.template.spec!;
    expect(pod).toMatchObject({ hostNetwork: false, dnsPolicy: "ClusterFirst", serviceAccountName: "bench", nodeSelector: { pool: "bench" }, tolerations: [{ key: "gpu", operator: "Exists" }] });
    expect(pod.automountServiceAccountToken).toBeUndefined();
    expect(pod.containers[0]).toMatchObject({ imagePullPolicy: "Never", resources: { requests: { cpu: "1" }, limits: { memory: "2Gi" } } });
  });

  it("makes valid names and label values from any run id", () => {
    const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    for (const id of ["20260101-120000-guidellm-sanity", "A".repeat(200), "--weird__ID..", "ü/ß", ""]) {
      const name = jobName(id);
      expect(name).toMatch(dns);
      expect(name.length).toBeLessThanOrEqual(52);
      const v = labelValue(id);
      expect(v).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
      expect(v.length).toBeLessThanOrEqual(63);
    }
    expect(runSelector("a b")).toBe(`${LABELS.runId}=a_b`);
  });
});

describe("kubernetes runtime: tar reader", () => {
  it("extracts files and folders (pax long names too) and nothing outside the folder", async () => {
    const src = tempDir("tar-src");
    const longName = `${"d".repeat(120)}/${"f".repeat(120)}.json`;
    mkdirSync(join(src, "d".repeat(120)), { recursive: true });
    writeFileSync(join(src, longName), "{}");
    writeFileSync(join(src, "big.bin"), Buffer.alloc(700_001, 7));
    writeFileSync(join(src, "stdout.log"), "the harness's own file of that name");
    symlinkSync("/etc/passwd", join(src, "link"));
    // Python's tarfile writes what the pod writes; the last two entries try to escape.
    const script = [
      "import io, sys, tarfile",
      "src = sys.argv[1]",
      "with tarfile.open(fileobj=sys.stdout.buffer, mode='w|', format=tarfile.PAX_FORMAT) as t:",
      "    t.add(src, arcname='.')",
      "    for name in ('../escape.txt', '/abs.txt'):",
      "        info = tarfile.TarInfo(name); info.size = 1; t.addfile(info, io.BytesIO(b'x'))",
    ].join("\n");
    const tarBytes = execFileSync("python3", ["-c", script, src]);
    const out = join(tempDir("tar-out"), "native");
    const x = new TarExtractor(out, { skip: ["stdout.log"] });
    // Odd chunk sizes: headers and bodies split anywhere.
    for (let i = 0; i < tarBytes.length; i += 777) x.write(tarBytes.subarray(i, i + 777));
    x.end();
    await new Promise((r) => x.on("finish", r));
    expect(x.complete).toBe(true);
    expect(readFileSync(join(out, longName), "utf8")).toBe("{}");
    expect(readFileSync(join(out, "big.bin")).length).toBe(700_001);
    expect(existsSync(join(out, "stdout.log"))).toBe(false);
    expect(existsSync(join(out, "link"))).toBe(false);
    expect(existsSync(join(out, "..", "escape.txt"))).toBe(false);
    expect(x.skipped.join("\n")).toMatch(/link \(symbolic link\)[\s\S]*escape\.txt \(outside[\s\S]*abs\.txt \(outside/);
  });
});

describe("kubernetes runtime: pod diagnosis", () => {
  const ctx = { image: "harness-hub/guidellm:0.8.1", harness: "guidellm", ownImage: true };
  const pod = (status: k8s.V1PodStatus): k8s.V1Pod => ({ metadata: { name: "p" }, spec: { nodeName: "n1", containers: [] }, status });

  it("says how to get a missing image onto the node", () => {
    const v = diagnose(pod({ phase: "Pending", containerStatuses: [{ name: "harness", image: "", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ErrImageNeverPull", message: "not present" } } }] }), ctx);
    expect(v.kind).toBe("failed");
    const reason = (v as { reason: string }).reason;
    expect(reason).toContain("image harness-hub/guidellm:0.8.1 is not on node n1");
    expect(reason).toContain("hub harness build guidellm");
    expect(reason).toContain("bash scripts/kube-cluster.sh import harness-hub/guidellm:0.8.1");
    expect(reason).toContain("--image");
  });

  it("tells scheduling trouble from a start in progress", () => {
    const unschedulable = pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes: Insufficient cpu" }] });
    expect(diagnose(unschedulable, ctx)).toEqual({ kind: "pending", why: "unschedulable", unschedulable: "0/1 nodes: Insufficient cpu" });
    const creating = pod({ phase: "Pending", containerStatuses: [{ name: "harness", image: "", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }] });
    expect(diagnose(creating, ctx)).toEqual({ kind: "pending", why: "ContainerCreating" });
    const evicted = pod({ phase: "Failed", reason: "Evicted", message: "low on memory" });
    expect(diagnose(evicted, ctx)).toMatchObject({ kind: "failed", reason: expect.stringContaining("Evicted: low on memory") });
  });
});

describe("kubernetes runtime: configuration and an unreachable API server", () => {
  const dir = tempDir("config");
  const kubeconfig = (server: string, namespace?: string) => {
    const file = join(dir, `kc-${Math.random().toString(36).slice(2)}`);
    writeFileSync(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: c, cluster: {server: '" + server + "', insecure-skip-tls-verify: true}}]",
        "users: [{name: u, user: {token: t}}]",
        `contexts: [{name: x, context: {cluster: c, user: u${namespace ? `, namespace: ${namespace}` : ""}}}]`,
        "current-context: x",
      ].join("\n"),
    );
    return file;
  };

  it("takes the option first, then KUBECONFIG, then ~/.kube/config; the namespace from the context", () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    try {
      const home = tempDir("home");
      mkdirSync(join(home, ".kube"));
      writeFileSync(join(home, ".kube", "config"), readFileSync(kubeconfig("https://home.example:6443")));
      process.env.HOME = home;
      process.env.KUBECONFIG = kubeconfig("https://env.example:6443", "team-a");
      expect(loadKubeConfig({ kubeconfig: kubeconfig("https://opt.example:6443") })).toMatchObject({ server: "https://opt.example:6443", namespace: "default" });
      expect(loadKubeConfig({})).toMatchObject({ server: "https://env.example:6443", namespace: "team-a" });
      expect(loadKubeConfig({ namespace: "mine" }).namespace).toBe("mine");
      delete process.env.KUBECONFIG;
      expect(loadKubeConfig({}).server).toBe("https://home.example:6443");
      expect(() => loadKubeConfig({ kubeconfig: join(dir, "missing") })).toThrow(UserError);
      expect(() => loadKubeConfig({ kubeconfig: kubeconfig("https://x:1"), namespace: "Not_Valid" })).toThrow(/not a valid Kubernetes namespace/);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("fails fast and clearly when the API server does not answer", async () => {
    const options = { kubernetes: { kubeconfig: kubeconfig("https://127.0.0.1:1") } };
    const started = Date.now();
    const err = await createKubernetesRuntime(options).prepare(fakeHarness(), () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1 .*Is the cluster running\?/);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(await clusterStatus(options.kubernetes)).toMatchObject({ ok: false, reason: expect.stringContaining("127.0.0.1:1") });
  });
});

// --- against a real cluster ------------------------------------------------------------------

const status = await clusterStatus(KUBE);
const skipCluster = !status.ok && !IN_CI;
if (skipCluster && !status.ok) console.warn(`kubernetes runtime against a real cluster skipped: ${status.reason}`);
const clusterTitle = skipCluster && !status.ok ? `kubernetes runtime against a real cluster (skipped: ${status.reason})` : "kubernetes runtime against a real cluster";

describe.skipIf(skipCluster)(clusterTitle, () => {
  let client: KubeClient;
  const root = tempDir("cluster");
  const tokenizerDir = join(root, "tokenizer");
  mkdirSync(tokenizerDir);
  writeFileSync(join(tokenizerDir, "tokenizer.json"), "{}");
  const runtime = createKubernetesRuntime({ image: IMAGE, kubernetes: KUBE });
  let n = 0;
  const runIds: string[] = [];

  beforeAll(async () => {
    // In CI a missing cluster fails here, with the reason.
    if (!status.ok) throw new Error(`no Kubernetes cluster answers: ${status.reason}`);
    client = (await connectCluster(KUBE)).client;
  });

  afterAll(async () => {
    for (const runId of runIds) await gc({ runId, all: true, kubernetes: KUBE, waitMs: 0 }).catch(() => {});
  });

  /** Everything with the run's label, in every namespace: must be empty after a run. */
  const leftovers = async (runId: string) => {
    const q = { labelSelector: runSelector(runId) };
    const [jobs, pods, cms, secrets] = await Promise.all([
      client.batch.listJobForAllNamespaces(q),
      client.core.listPodForAllNamespaces(q),
      client.core.listConfigMapForAllNamespaces(q),
      client.core.listSecretForAllNamespaces(q),
    ]);
    return [...jobs.items, ...pods.items, ...cms.items, ...secrets.items].map((o) => o.metadata?.name);
  };

  /** Worker requests running fake_worker.py with the given arguments, each in its own folder. */
  const requests = (argvs: string[][], extra: Partial<ExecRequest> = {}) => {
    const runId = `kt-${process.pid}-${++n}`;
    runIds.push(runId);
    const lines: string[][] = argvs.map(() => []);
    const reqs = argvs.map((args, i): ExecRequest => {
      const nativeDir = join(root, runId, argvs.length > 1 ? `worker-${i}` : "native");
      mkdirSync(nativeDir, { recursive: true });
      return {
        harness: fakeHarness(),
        invocation: { argv: ["python3", FAKE_WORKER, ...args], files: { "fake-config.txt": `config of ${i}` } },
        nativeDir,
        tokenizerDir,
        stdoutLog: join(nativeDir, "stdout.log"),
        stderrLog: join(nativeDir, "stderr.log"),
        onLine: (_s, l) => lines[i]!.push(l),
        runId,
        ...(argvs.length > 1 ? { worker: i } : {}),
        ...extra,
      };
    });
    return { runId, reqs, lines };
  };

  it("prepares: the cluster answers and the namespace is usable", async () => {
    const said: string[] = [];
    await expect(runtime.prepare(fakeHarness(), (l) => said.push(l))).resolves.toEqual({ kind: "ok", version: "1.0" });
    expect(said.join("\n")).toContain(`image ${IMAGE}`);
    expect(runtime.harnessPaths!({ nativeDir: "/x", tokenizerDir: "/y" })).toEqual({ outputDir: "/results", tokenizerDir: "/tokenizer" });
    expect(runtime.describe(fakeHarness(), { argv: ["a", "b"] })).toEqual(["kubernetes-job", IMAGE, "a", "b"]);
  });

  it("refuses a namespace that does not exist, naming it", async () => {
    const rt = createKubernetesRuntime({ image: IMAGE, kubernetes: { ...KUBE, namespace: "hub-no-such-namespace" } });
    await expect(rt.prepare(fakeHarness(), () => {})).rejects.toThrow(/namespace "hub-no-such-namespace" does not exist/);
  });

  it("runs two workers as one Indexed Job: each one's files and log come back to its own folder", async () => {
    const { runId, reqs, lines } = requests([
      ["--write", "w0.json"],
      ["--write", "w1.json", "--lines", "5"],
    ]);
    const started = Date.now();
    const results = await runtime.execWorkers!(reqs);
    const took = Date.now() - started;
    expect(results.map((r) => r.kind)).toEqual(["ok", "ok"]);
    for (const [i, r] of results.entries()) {
      const dir = reqs[i]!.nativeDir;
      expect(JSON.parse(readFileSync(join(dir, "out", `w${i}.json`), "utf8"))).toMatchObject({ worker: String(i) });
      // The invocation's config file was written in the pod (and so came back too).
      expect(readFileSync(join(dir, "fake-config.txt"), "utf8")).toBe(`config of ${i}`);
      const log = readFileSync(reqs[i]!.stdoutLog, "utf8");
      expect(log).toContain(`worker ${i}: config says config of ${i}`);
      expect(log).toContain(`worker ${i}: line 2`);
      expect(log).toContain(`worker ${i}: done, exit 0`);
      expect(log).not.toContain(`worker ${1 - i}:`);
      expect(lines[i]).toContain(`worker ${i}: line 0`);
      expect(existsSync(join(dir, ".hub-exit"))).toBe(false);
      expect(r.exitCode).toBe(0);
      expect(r.placement).toMatch(/^pod hub-kt-.* on node \S+$/);
      // One machine: the pod's clock is hub's.
      expect(Math.abs(r.clockOffsetS!)).toBeLessThan(0.5);
    }
    expect(results[0]!.placement).not.toBe(results[1]!.placement);
    expect(lines[1]).toContain("worker 1: line 4");
    expect(await leftovers(runId)).toEqual([]);
    console.log(`two workers: ${took} ms`);
  }, 90_000);

  it("reports a failing worker as failed, with its exit code, log and files kept", async () => {
    const { runId, reqs } = requests([["--write", "w.json", "--exit", "3"]]);
    const result = await runtime.exec(reqs[0]!);
    expect(result).toMatchObject({ kind: "failed", exitCode: 3, reason: expect.stringMatching(/python3 in pod hub-kt-\S+ exited with code 3/) });
    expect(readFileSync(reqs[0]!.stdoutLog, "utf8")).toContain("worker 0: done, exit 3");
    expect(existsSync(join(reqs[0]!.nativeDir, "out", "w.json"))).toBe(true);
    expect(await leftovers(runId)).toEqual([]);
  }, 90_000);

  it("reports an executable missing from the image", async () => {
    const { reqs } = requests([[]]);
    reqs[0]!.invocation = { argv: ["no-such-harness", "--x"] };
    const result = await runtime.exec(reqs[0]!);
    expect(result).toMatchObject({ kind: "failed", exitCode: 127, reason: expect.stringContaining(`no-such-harness could not be started in image ${IMAGE}`) });
  }, 90_000);

  it("stops on abort: the Job and its pods are deleted, nothing labelled remains", async () => {
    const ac = new AbortController();
    const { runId, reqs, lines } = requests([["--lines", "1000", "--interval", "0.2"]], { signal: ac.signal });
    const running = runtime.exec(reqs[0]!);
    const until = Date.now() + 60_000;
    while (!lines[0]!.some((l) => l.includes("line 3")) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const aborted = Date.now();
    ac.abort();
    const result = await running;
    const took = Date.now() - aborted;
    expect(result.kind).toBe("interrupted");
    expect(took).toBeLessThan(30_000);
    expect(await leftovers(runId)).toEqual([]);
    console.log(`abort to clean: ${took} ms`);
  }, 120_000);

  it("times out: the harness is stopped as Ctrl-C would, what it wrote is collected, nothing remains", async () => {
    const { runId, reqs } = requests([["--lines", "1000", "--interval", "0.2"]], { timeoutMs: 6000 });
    const started = Date.now();
    const result = await runtime.exec(reqs[0]!);
    expect(result).toMatchObject({ kind: "timed_out", exitCode: 130 });
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(readFileSync(join(reqs[0]!.nativeDir, "partial.txt"), "utf8")).toBe("stopped early\n");
    expect(readFileSync(reqs[0]!.stdoutLog, "utf8")).toContain("stopped by SIGINT");
    expect(await leftovers(runId)).toEqual([]);
  }, 120_000);

  it("fails fast when the image is not on the node, saying how to get it there", async () => {
    const rt = createKubernetesRuntime({ image: "hub-test/not-imported:1", kubernetes: KUBE });
    const { runId, reqs } = requests([[]]);
    const started = Date.now();
    const result = await rt.exec(reqs[0]!);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result).toMatchObject({ kind: "failed", exitCode: null });
    const reason = (result as Extract<WorkerResult, { kind: "failed" }>).reason;
    expect(reason).toContain("image hub-test/not-imported:1 is not on node");
    expect(reason).toContain("bash scripts/kube-cluster.sh import hub-test/not-imported:1");
    expect(await leftovers(runId)).toEqual([]);
  }, 60_000);

  it("hands the API key over as a Secret, not in the Job", async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = "sk-test-kubernetes-secret";
    try {
      const { runId, reqs } = requests([["--write", "key.json"]]);
      const result = await runtime.exec(reqs[0]!);
      expect(result.kind).toBe("ok");
      expect(JSON.parse(readFileSync(join(reqs[0]!.nativeDir, "out", "key.json"), "utf8")).key_set).toBe(true);
      expect(await leftovers(runId)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  }, 90_000);

  it("gc removes what a dead hub left", async () => {
    const runId = `kt-${process.pid}-gc`;
    runIds.push(runId);
    const labels = { [LABELS.runId]: runId, [LABELS.harness]: "fake", [LABELS.pid]: "999999999", [LABELS.host]: "elsewhere" };
    await client.core.createNamespacedConfigMap({ namespace: client.namespace, body: { metadata: { name: `${runId}-cm`, labels }, data: {} } });
    await client.batch.createNamespacedJob({
      namespace: client.namespace,
      body: {
        metadata: { name: `${runId}-job`, labels },
        spec: {
          backoffLimit: 0,
          template: { metadata: { labels }, spec: { restartPolicy: "Never", hostNetwork: true, terminationGracePeriodSeconds: 1, containers: [{ name: "c", image: IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "300"] }] } },
        },
      },
    });
    const dry = await gc({ runId, dryRun: true, kubernetes: KUBE });
    expect(dry.removed.map((r) => r.kind).sort()).toEqual(expect.arrayContaining(["ConfigMap", "Job"]));
    expect(await leftovers(runId)).not.toEqual([]);
    const done = await gc({ runId, kubernetes: KUBE });
    expect(done.kept).toEqual([]);
    expect(done.removed.map((r) => `${r.kind}/${r.name}`)).toEqual(expect.arrayContaining([`ConfigMap/${runId}-cm`, `Job/${runId}-job`]));
    expect(await leftovers(runId)).toEqual([]);
  }, 90_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));
});
