/**
 * Names whose values are secrets: never written to logs, run.json or reports. Whole words only,
 * so HF_TOKEN and OPENAI_API_KEY match but MAX_TOKENS does not.
 */
const SECRET_NAME = /(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?|AUTH)($|_)/i;

export function redactEnv(env: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!env) return undefined;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_NAME.test(k) ? "<redacted>" : v]));
}

/** Replaces every occurrence of a secret value from the environment in a string. */
export function redactText(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const [k, v] of Object.entries(env)) {
    if (v && v.length >= 8 && SECRET_NAME.test(k)) out = out.split(v).join("<redacted>");
  }
  return out;
}

/** Whether the environment holds any secret redactText would replace (most runs: none, so no scan). */
export function hasSecrets(env: NodeJS.ProcessEnv = process.env): boolean {
  return Object.entries(env).some(([k, v]) => v !== undefined && v.length >= 8 && SECRET_NAME.test(k));
}
