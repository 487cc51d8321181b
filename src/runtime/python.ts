import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { execa } from "execa";
import type { HarnessDefinition } from "../harness/contract.ts";
import { hubHome } from "./home.ts";

/**
 * One Python virtual environment per harness and pinned version, under $HUB_HOME/envs.
 * A marker file written last says the install finished; without it the env is rebuilt.
 */

const MARKER = ".hub-installed.json";

export interface PythonEnv {
  dir: string;
  bin: string;
  python: string;
}

export function envFor(harness: Pick<HarnessDefinition, "name" | "version">): PythonEnv {
  const dir = join(hubHome(), "envs", `${harness.name}-${harness.version}`);
  const bin = join(dir, "bin");
  return { dir, bin, python: join(bin, "python") };
}

/** PEP 503 name of a pip requirement: "Foo_Bar[x]>=1" and "foo-bar @ file:..." give "foo-bar". */
function requirementName(requirement: string): string {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement);
  return m ? m[1]!.toLowerCase().replace(/[-_.]+/g, "-") : "";
}

/**
 * Where a harness's code comes from, read from its install spec:
 * - "index": a requirement names its distribution; pip gets it from the package index;
 * - "path": none does (the harness is on no index); the user gives its source directory or wheel
 *   (`hub harness install <name> --from <path>`), installed together with the listed packages;
 * - "none": no packages at all: the harness ships with hub and needs no Python environment.
 */
export function installSource(harness: Pick<HarnessDefinition, "install">): "index" | "path" | "none" {
  const { packages, distribution, noDeps = [] } = harness.install;
  if (packages.length === 0 && noDeps.length === 0) return "none";
  const name = requirementName(distribution);
  return [...packages, ...noDeps].some((p) => requirementName(p) === name) ? "index" : "path";
}

export function isInstalled(harness: Pick<HarnessDefinition, "name" | "version" | "install">): boolean {
  return installSource(harness) === "none" || existsSync(join(envFor(harness).dir, MARKER));
}

type Version = [number, number];
const parseVersion = (v: string): Version => {
  const [major, minor] = v.split(".").map(Number);
  return [major ?? 0, minor ?? 0];
};
const atLeast = (v: Version, min: Version) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

async function pythonVersion(exe: string): Promise<Version | undefined> {
  const r = await execa(exe, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { reject: false });
  return r.exitCode === 0 ? parseVersion(String(r.stdout).trim()) : undefined;
}

/** Interpreters to try: python3 on PATH first, then pyenv's versions, oldest first. */
function candidatePythons(): string[] {
  const pyenv = process.env.PYENV_ROOT || join(homedir(), ".pyenv");
  const versions = existsSync(join(pyenv, "versions"))
    ? readdirSync(join(pyenv, "versions"))
        .filter((v) => /^3\.\d+\.\d+$/.test(v))
        .sort((a, b) => {
          const [x, y] = [parseVersion(a), parseVersion(b)];
          return x[0] - y[0] || x[1] - y[1];
        })
        .map((v) => join(pyenv, "versions", v, "bin", "python3"))
        .filter((p) => existsSync(p))
    : [];
  return ["python3", ...versions];
}

/**
 * The interpreter a harness's venv is made from: $HUB_PYTHON when set, else the first Python
 * that satisfies the harness's minimum (3.10 when it names none).
 */
export async function basePython(minimum = "3.10"): Promise<{ kind: "ok"; python: string } | { kind: "failed"; reason: string }> {
  const min = parseVersion(minimum);
  const candidates = process.env.HUB_PYTHON ? [process.env.HUB_PYTHON] : candidatePythons();
  const seen: string[] = [];
  for (const exe of candidates) {
    const v = await pythonVersion(exe);
    if (v && atLeast(v, min)) return { kind: "ok", python: exe };
    seen.push(`${exe} (${v ? v.join(".") : "not runnable"})`);
  }
  return { kind: "failed", reason: `needs Python ${minimum} or newer; found ${seen.join(", ")}. Set HUB_PYTHON to a Python ${minimum}+ interpreter` };
}

/**
 * A CPU-only torch wheel in pip's find-links folders, if any. Pinning torch to it keeps pip from
 * pulling PyPI's torch, which on Linux brings several GB of CUDA libraries.
 */
export function localCpuTorch(): { version: string; path: string } | undefined {
  const dirs = (process.env.PIP_FIND_LINKS ?? "").split(/[\s,]+/).filter(Boolean);
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const m = /^torch-([^-]+\+cpu)-/.exec(f);
      if (m) return { version: m[1]!, path: join(dir, f) };
    }
  }
  return undefined;
}

export type InstallResult =
  | { kind: "ok"; env: PythonEnv; version: string; alreadyInstalled: boolean }
  | { kind: "failed"; reason: string; logPath?: string };

export interface InstallOptions {
  onLine?: (line: string) => void;
  force?: boolean;
  /** A source directory or wheel of the harness's distribution, installed with its packages. */
  from?: string;
  /** Ctrl-C: stops the step under way (venv, pip) and installs nothing more. */
  signal?: AbortSignal;
}

export async function installHarness(harness: HarnessDefinition, opts: InstallOptions = {}): Promise<InstallResult> {
  const env = envFor(harness);
  const say = opts.onLine ?? (() => {});
  const source = installSource(harness);
  if (source === "none") {
    if (opts.from !== undefined) return { kind: "failed", reason: `${harness.name} ships with hub and installs nothing; --from does not apply` };
    return { kind: "ok", env, version: harness.version, alreadyInstalled: true };
  }
  if (opts.from !== undefined && source === "index") {
    return { kind: "failed", reason: `${harness.name} is installed from the package index (${harness.install.packages.join(" ")}); --from does not apply` };
  }
  const from = opts.from !== undefined ? resolve(opts.from) : undefined;
  if (from !== undefined && !existsSync(from)) return { kind: "failed", reason: `--from ${opts.from}: no such file or directory` };
  if (!opts.force && from === undefined && isInstalled(harness)) {
    const version = await installedVersion(harness);
    if (version.kind === "ok") return { kind: "ok", env, version: version.version, alreadyInstalled: true };
  }
  if (source === "path" && from === undefined) {
    return {
      kind: "failed",
      reason:
        `${harness.install.distribution} is on no package index: install ${harness.name} from its source directory or a wheel ` +
        `with \`hub harness install ${harness.name} --from <path>\` (pinned version ${harness.version})`,
    };
  }
  rmSync(env.dir, { recursive: true, force: true });
  mkdirSync(env.dir, { recursive: true });
  const logPath = join(env.dir, "install.log");
  const log: string[] = [];
  const run = async (file: string, args: string[]) => {
    say(`$ ${[file, ...args].join(" ")}`);
    if (opts.signal?.aborted) return { exitCode: undefined, isCanceled: true };
    const child = execa(file, args, { all: true, reject: false, env: { PIP_PROGRESS_BAR: "off" }, ...(opts.signal ? { cancelSignal: opts.signal, forceKillAfterDelay: 3000 } : {}) });
    for await (const line of child.iterable({ from: "all" })) {
      log.push(line);
      if (/^(Collecting|Installing|Successfully|ERROR|Downloading)/.test(line)) say(line);
    }
    const r = await child;
    writeFileSync(logPath, log.join("\n"));
    return r;
  };

  const base = await basePython(harness.install.python);
  if (base.kind === "failed") return { kind: "failed", reason: `${harness.name} ${harness.version} ${base.reason}` };
  const venv = await run(base.python, ["-m", "venv", env.dir]);
  if (opts.signal?.aborted) return interruptedInstall(env.dir);
  if (venv.exitCode !== 0) {
    return { kind: "failed", reason: `could not create a Python venv with ${base.python} (exit ${venv.exitCode}); see ${logPath}`, logPath };
  }
  const args = ["-m", "pip", "install", "--disable-pip-version-check", ...harness.install.packages, ...(from !== undefined ? [from] : [])];
  if (harness.install.torch) {
    const torch = localCpuTorch();
    if (torch) {
      const constraints = join(env.dir, "constraints.txt");
      writeFileSync(constraints, `torch==${torch.version}\n`);
      args.push("--constraint", constraints);
      say(`pinning torch to the local CPU-only wheel ${torch.path}`);
    } else {
      say("no CPU-only torch wheel in pip's find-links (PIP_FIND_LINKS); pip installs PyPI's torch, which brings CUDA libraries (several GB)");
    }
  }
  const pip = await run(env.python, args);
  if (opts.signal?.aborted) return interruptedInstall(env.dir);
  if (pip.exitCode !== 0) {
    const tail = log.slice(-15).join("\n");
    return { kind: "failed", reason: `pip install ${[...harness.install.packages, ...(from !== undefined ? [from] : [])].join(" ")} failed (exit ${pip.exitCode}); last lines:\n${tail}\nfull log: ${logPath}`, logPath };
  }
  // Then what must go in without its declared dependencies (PipInstall.noDeps).
  const noDeps = harness.install.noDeps ?? [];
  if (noDeps.length > 0) {
    const nd = await run(env.python, ["-m", "pip", "install", "--disable-pip-version-check", "--no-deps", ...noDeps]);
    if (opts.signal?.aborted) return interruptedInstall(env.dir);
    if (nd.exitCode !== 0) {
      const tail = log.slice(-15).join("\n");
      return { kind: "failed", reason: `pip install --no-deps ${noDeps.join(" ")} failed (exit ${nd.exitCode}); last lines:\n${tail}\nfull log: ${logPath}`, logPath };
    }
  }
  const version = await installedVersion(harness);
  if (version.kind === "failed") return { kind: "failed", reason: version.reason, logPath };
  writeFileSync(join(env.dir, MARKER), `${JSON.stringify({ packages: harness.install.packages, ...(from !== undefined ? { from } : {}), version: version.version, installed_at: new Date().toISOString() }, null, 2)}\n`);
  return { kind: "ok", env, version: version.version, alreadyInstalled: false };
}

/** The version of the harness's distribution in its env, checked against the pinned one. */
/** A half-made environment is removed, so the next run starts the install afresh. */
function interruptedInstall(dir: string): InstallResult {
  rmSync(dir, { recursive: true, force: true });
  return { kind: "failed", reason: "install interrupted" };
}

export async function installedVersion(harness: HarnessDefinition): Promise<{ kind: "ok"; version: string } | { kind: "failed"; reason: string }> {
  if (installSource(harness) === "none") return { kind: "ok", version: harness.version };
  const env = envFor(harness);
  const r = await execa(env.python, ["-c", "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))", harness.install.distribution], { reject: false });
  if (r.exitCode !== 0) return { kind: "failed", reason: `${harness.install.distribution} is not installed in ${env.dir}: ${String(r.stderr).split("\n").pop()}` };
  const version = String(r.stdout).trim();
  if (version !== harness.version) {
    return {
      kind: "failed",
      reason: `${harness.name} ${version} is installed in ${env.dir}, but this hub was written for ${harness.version}; run \`hub harness install ${harness.name} ${installSource(harness) === "path" ? `--from <${harness.name} ${harness.version} source or wheel>` : "--force"}\``,
    };
  }
  return { kind: "ok", version };
}

/** Environment for running a harness from its venv: its bin first on PATH, offline Hugging Face. */
export function harnessEnv(env: PythonEnv): Record<string, string> {
  return {
    VIRTUAL_ENV: env.dir,
    PATH: `${env.bin}${delimiter}${process.env.PATH ?? ""}`,
    HF_HUB_OFFLINE: "1",
    TRANSFORMERS_OFFLINE: "1",
    HF_DATASETS_OFFLINE: "1",
    PYTHONUNBUFFERED: "1",
  };
}

export function readMarker(harness: HarnessDefinition): { version?: string; from?: string } | undefined {
  const p = join(envFor(harness).dir, MARKER);
  return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : undefined;
}
