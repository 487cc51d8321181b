import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HarnessDefinition } from "../../harness/contract.ts";
import { connect, isNotFound, LABELS, shortError } from "./engine.ts";
import { BuildProgress, describeFailure } from "./progress.ts";

const HARNESSES_DIR = fileURLToPath(new URL("../../../harnesses/", import.meta.url));
/** The generic Dockerfile for harnesses without their own. */
export const GENERIC_DOCKERFILE_DIR = join(HARNESSES_DIR, "_docker");

/** The image hub builds for a harness: one per harness and pinned version. */
export function imageRef(harness: Pick<HarnessDefinition, "name" | "version">): string {
  return `harness-hub/${harness.name}:${harness.version}`;
}

/** harnesses/<name>/Dockerfile when the harness has one, else the generic one. */
export function dockerfileDir(harness: Pick<HarnessDefinition, "name">): string {
  const own = join(HARNESSES_DIR, harness.name);
  return existsSync(join(own, "Dockerfile")) ? own : GENERIC_DOCKERFILE_DIR;
}

/** PEP 503 name of a pip requirement: "Foo_Bar[x]>=1" gives "foo-bar". */
const requirementName = (req: string) => (/^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(req)?.[1] ?? "").toLowerCase().replace(/[-_.]+/g, "-");

/**
 * What an image can be built from: "index" when a requirement (packages or noDeps) names the harness's distribution
 * (pip gets it in the build), "path" when none does (the harness is on no index), "none" when there
 * are no packages at all (the harness ships with hub and needs no Python environment).
 */
export function imageSource(harness: Pick<HarnessDefinition, "install">): "index" | "path" | "none" {
  const { packages, distribution } = harness.install;
  const noDeps = (harness.install as { noDeps?: string[] }).noDeps ?? [];
  if (packages.length === 0 && noDeps.length === 0) return "none";
  return [...packages, ...noDeps].some((p) => requirementName(p) === requirementName(distribution)) ? "index" : "path";
}

/** Why the docker runtime cannot build an image for the harness, if it cannot. */
export function unbuildable(harness: HarnessDefinition): string | undefined {
  switch (imageSource(harness)) {
    case "none":
      return `${harness.name} ships with hub and installs no Python package: the docker runtime runs it in the base image (${defaultBaseImage(harness)})`;
    case "path":
      return `${harness.install.distribution} is on no package index, so hub cannot build its image; run ${harness.name} with --runtime local (\`hub harness install ${harness.name} --from <path>\`), or give --image`;
    case "index":
      return undefined;
  }
}

/** The harness's minimum Python (install.python), 3.10 when it names none. */
const pythonMin = (harness: HarnessDefinition) => harness.install.python ?? "3.10";

/** The upstream base when none is named: python:3.12-slim, or the harness's minimum if newer. */
export function upstreamBaseImage(harness: HarnessDefinition): string {
  const [major = 3, minor = 0] = pythonMin(harness).split(".").map(Number);
  return `python:${major > 3 || minor > 12 ? `${major}.${minor}` : "3.12"}-slim`;
}

/** Build args from the harness's install spec. One requirement a line (pip -r), never a shell word. */
export function buildArgs(harness: HarnessDefinition, baseImage?: string): Record<string, string> {
  return {
    ...(baseImage ? { BASE_IMAGE: baseImage } : {}),
    PYTHON_MIN: pythonMin(harness),
    TORCH: harness.install.torch ? "torch" : "",
    PACKAGES: harness.install.packages.join("\n"),
    // Requirements pip installs with --no-deps after PACKAGES (install.noDeps).
    NO_DEPS: ((harness.install as { noDeps?: string[] }).noDeps ?? []).join("\n"),
    DISTRIBUTION: harness.install.distribution,
    VERSION: harness.version,
  };
}

/**
 * What the image is made of, base image aside: the Dockerfile and the install spec. An image whose
 * label differs is stale and rebuilt by `hub run`. The base is left out so that an image built FROM
 * a local base (CI) stays valid for a `hub run` that does not name that base again.
 */
export function buildHash(harness: HarnessDefinition): string {
  const dockerfile = readFileSync(join(dockerfileDir(harness), "Dockerfile"), "utf8");
  const { BASE_IMAGE: _, ...args } = buildArgs(harness);
  return createHash("sha256").update(dockerfile).update(JSON.stringify(args)).digest("hex").slice(0, 16);
}

/** The base image a build uses when none is named: $HUB_DOCKER_BASE_IMAGE, else an upstream Python image. */
export function defaultBaseImage(harness: HarnessDefinition): string {
  return process.env.HUB_DOCKER_BASE_IMAGE || upstreamBaseImage(harness);
}

export interface BuildOptions {
  baseImage?: string;
  noCache?: boolean;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export type BuildResult =
  | { kind: "ok"; image: string; imageId: string; sizeBytes: number; durationMs: number }
  | { kind: "failed"; reason: string };

/** Builds the harness image with BuildKit (host networking, so pip reaches the index the host reaches). */
export async function buildHarnessImage(harness: HarnessDefinition, opts: BuildOptions = {}): Promise<BuildResult> {
  const why = unbuildable(harness);
  if (why) return { kind: "failed", reason: why };
  const baseImage = opts.baseImage ?? defaultBaseImage(harness);
  return buildImage({
    dir: dockerfileDir(harness),
    tag: imageRef(harness),
    buildArgs: buildArgs(harness, baseImage),
    labels: {
      [LABELS.harness]: harness.name,
      [LABELS.harnessVersion]: harness.version,
      [LABELS.buildHash]: buildHash(harness),
    },
    ...opts,
  });
}

export interface ImageBuild extends BuildOptions {
  /** The folder with the Dockerfile; its files are the build context. */
  dir: string;
  tag: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
}

/** Builds an image from a folder with BuildKit, showing progress; a failure names the failing step. */
export async function buildImage(b: ImageBuild): Promise<BuildResult> {
  const started = performance.now();
  const say = b.onLine ?? (() => {});
  const docker = await connect();
  const dockerfile = join(b.dir, "Dockerfile");
  const base = b.buildArgs?.BASE_IMAGE ?? /^ARG BASE_IMAGE=(\S+)/m.exec(readFileSync(dockerfile, "utf8"))?.[1];
  let baseIsLocal = true;
  if (base) {
    try {
      await docker.getImage(base).inspect();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      baseIsLocal = false;
      say(`base image ${base} is not in the engine; the build pulls it`);
    }
  }
  say(`building ${b.tag} from ${dockerfile}${base ? ` FROM ${base}` : ""}`);
  const previous = await docker.getImage(b.tag).inspect().then((i) => i.Id, () => undefined);

  const files = readdirSync(b.dir).filter((f) => statSync(join(b.dir, f)).isFile());
  const progress = new BuildProgress(say);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(
      { context: b.dir, src: files },
      {
        t: b.tag,
        // BuildKit: cache mounts, and the failing step named in errors.
        version: "2",
        networkmode: "host",
        buildargs: b.buildArgs ?? {},
        labels: { ...b.labels, ...(base ? { [LABELS.baseImage]: base } : {}) },
        ...(b.noCache ? { nocache: true } : {}),
        ...(b.signal ? { abortSignal: b.signal } : {}),
      },
    );
  } catch (e) {
    return { kind: "failed", reason: `building ${b.tag} failed: ${shortError(e)}` };
  }
  const heartbeat = setInterval(() => {
    const line = progress.heartbeat(30_000);
    if (line) say(line);
  }, 5000);
  heartbeat.unref();
  try {
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => progress.write(chunk));
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", reject);
    });
  } catch (e) {
    progress.end();
    return { kind: "failed", reason: `building ${b.tag} failed: ${progress.failure ? describeFailure(progress.failure) : shortError(e)}` };
  } finally {
    clearInterval(heartbeat);
  }
  progress.end();
  if (progress.failure) {
    const hint = !baseIsLocal && base
      ? `\nThe base image ${base} is not in the engine and could not be pulled: pass --base-image (or set HUB_DOCKER_BASE_IMAGE) to a local one; scripts/docker-engine.sh builds hub-base:trixie from Debian packages.`
      : "";
    return { kind: "failed", reason: `building ${b.tag} failed: ${describeFailure(progress.failure)}${hint}` };
  }
  let info;
  try {
    info = await docker.getImage(b.tag).inspect();
  } catch (e) {
    return { kind: "failed", reason: `the build of ${b.tag} ended without an image (${shortError(e)})` };
  }
  if (previous && previous !== info.Id) {
    // The image the tag named before is now untagged: gigabytes for a harness with torch. It
    // stays if a container or another tag still uses it.
    await docker.getImage(previous).remove().then(() => say(`removed the previous ${b.tag} (${previous.slice(7, 19)})`), () => {});
  }
  return { kind: "ok", image: b.tag, imageId: info.Id, sizeBytes: info.Size, durationMs: performance.now() - started };
}

export type ImageState =
  | { kind: "missing" }
  | { kind: "stale"; labels: Record<string, string> }
  | { kind: "ok"; id: string; labels: Record<string, string> };

/** Whether the harness image exists and was built from the current Dockerfile and install spec. */
export async function imageState(harness: HarnessDefinition): Promise<ImageState> {
  const docker = await connect();
  try {
    const info = await docker.getImage(imageRef(harness)).inspect();
    const labels = info.Config?.Labels ?? {};
    if (labels[LABELS.buildHash] !== buildHash(harness)) return { kind: "stale", labels };
    return { kind: "ok", id: info.Id, labels };
  } catch (e) {
    if (isNotFound(e)) return { kind: "missing" };
    throw e;
  }
}

export const formatBytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(0)} MB`);
