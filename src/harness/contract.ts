import type { StageInput } from "../metrics/compute.ts";
import type { Startup } from "../metrics/schema.ts";
import type { Profile } from "../profile/schema.ts";
import type { Feature } from "./features.ts";

/** How the local runtime gets a harness: a pip-installed Python distribution in its own venv. */
export interface PipInstall {
  kind: "pip";
  /** The distribution whose installed version is checked against `version`. */
  distribution: string;
  /** pip requirement specifiers, e.g. ["guidellm==0.8.1"]. */
  packages: string[];
  /** Installs torch CPU-only where a local CPU wheel exists (see runtime/python.ts). */
  torch?: boolean;
  /** Oldest Python the packages support, e.g. "3.12"; hub picks an interpreter that satisfies it. */
  python?: string;
  /**
   * Requirements installed after `packages` with pip --no-deps: for a distribution whose declared
   * dependencies cannot all be resolved from the index; `packages` then lists what it needs.
   */
  noDeps?: string[];
}

export interface TranslateContext {
  /** Base URL of the OpenAI-compatible server, without /v1. */
  target: string;
  model: string;
  /** A Hugging Face tokenizer directory the harness loads offline. */
  tokenizerDir: string;
  /** Directory the harness writes its outputs to (the run's native/). */
  outputDir: string;
}

/** One process to start. argv[0] is an executable in the harness's environment. */
export interface Invocation {
  argv: string[];
  env?: Record<string, string>;
  /** Files to write into outputDir before starting, by relative path (configs). */
  files?: Record<string, string>;
  /** The profile stage this invocation runs, when a harness runs one process per stage. */
  stage?: number;
}

export type TranslateResult =
  | { kind: "ok"; invocations: Invocation[]; warnings: string[] }
  | { kind: "unsupported"; reason: string };

export interface ConvertContext {
  /** The profile the run used, when known (for load points the output does not carry). */
  profile?: Profile;
  /** The harness version that ran, when hub ran it (for outputs that do not record it). */
  harnessVersion?: string;
}

/** Where hub keeps the target server's log in a run's native/ folder (`hub run --server-log`). */
export const SERVER_LOG_FILE = "server.log";

export type ConvertResult =
  | {
      kind: "ok";
      harnessVersion: string | null;
      stages: StageInput[];
      warnings: string[];
      /** The target server's start-up, for harnesses that measure it (metrics.json `startup`). */
      startup?: Startup;
    }
  | { kind: "failed"; reason: string };

/** A converter turns a harness's native output (a directory or file) into stage inputs. */
export interface Converter {
  /** Harness versions this converter was written for and checked against. */
  knownVersions: readonly string[];
  convert(nativePath: string, ctx: ConvertContext): Promise<ConvertResult>;
}

export interface HarnessDefinition {
  name: string;
  description: string;
  /** The pinned version hub installs and was tested with. */
  version: string;
  install: PipInstall;
  capabilities: readonly Feature[];
  translate(profile: Profile, ctx: TranslateContext): TranslateResult;
  converter: Converter;
}

/** Identity function that gives a harness folder's default export its type. */
export function defineHarness<const T extends HarnessDefinition>(definition: T): T {
  return definition;
}
