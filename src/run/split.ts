import { UserError } from "../errors.ts";
import type { Profile } from "../profile/schema.ts";

/**
 * `--parallel N`: the profile describes the total offered load; each of N workers gets 1/N of it.
 * Rates divide freely; stream counts, request counts and the request limit must divide evenly, or
 * the run is refused (a worker with 2.5 streams is not a load anyone can offer). Each worker gets
 * its own seed, so workers do not send identical prompts (which a prefix cache would flatter).
 */
export interface WorkerPlan {
  index: number;
  profile: Profile;
  seed: number;
}

export function splitProfile(profile: Profile, n: number): WorkerPlan[] {
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--parallel must be a whole number of workers (1 or more), got ${n}`);
  if (n === 1) return [{ index: 0, profile, seed: profile.data.seed }];
  const type = profile.load.type;
  if (type === "synchronous") throw new UserError(`--parallel ${n}: load type synchronous sends one request at a time; ${n} workers would send ${n} at a time. Use load type concurrent with concurrency ${n}`);
  if (type === "sweep") throw new UserError(`--parallel ${n}: a sweep measures one generator's synchronous and throughput rates; it does not split across workers`);
  const divide = (value: number, field: string): number => {
    if (value % n !== 0) throw new UserError(`--parallel ${n}: ${field} = ${value} does not split evenly over ${n} workers; use a multiple of ${n}`);
    return value / n;
  };
  const stages = profile.load.stages.map((s, i) => ({
    ...s,
    ...(s.concurrency !== undefined ? { concurrency: divide(s.concurrency, `load.stages.${i}.concurrency`) } : {}),
    ...(s.rate !== undefined ? { rate: s.rate / n } : {}),
    ...(s.requests !== undefined ? { requests: divide(s.requests, `load.stages.${i}.requests`) } : {}),
  }));
  const maxRequests = profile.limits.max_requests;
  const limits = { ...profile.limits, ...(maxRequests !== undefined ? { max_requests: divide(maxRequests, "limits.max_requests") } : {}) };
  return Array.from({ length: n }, (_, index) => {
    const seed = (profile.data.seed + index) % 2 ** 32;
    return { index, seed, profile: { ...profile, load: { ...profile.load, stages }, data: { ...profile.data, seed }, limits } };
  });
}
