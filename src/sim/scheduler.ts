/**
 * One timer for all streams: a min-heap of absolute deadlines (performance.now() ms).
 *
 * Why not a setTimeout per token: Node timers are ms-granular and fire up to ~1.7 ms early or ~1 ms
 * late (libuv's loop clock is truncated to ms and cached for a whole loop iteration). So the
 * scheduler sleeps with setTimeout until about `preciseWaitMs` before the earliest deadline, then
 * blocks the thread with Atomics.wait (a futex with a sub-ms timeout, no CPU burnt) for the rest.
 * After each wait and burst of sends it yields to the event loop (setImmediate), so I/O is delayed
 * by at most one wait. Tasks run late, never early, and deadlines are absolute, so lateness never
 * accumulates along a stream. bench/README.md compares this with timers only and busy polling.
 */

export interface SchedulerOptions {
  /** Block precisely for the last preciseWaitMs before a deadline. 0 = timers only. */
  preciseWaitMs: number;
}

export class Task {
  deadline: number;
  /** Position in the heap, -1 when not scheduled. */
  index = -1;
  readonly run: (now: number) => number | null;
  constructor(deadline: number, run: (now: number) => number | null) {
    this.deadline = deadline;
    this.run = run;
  }
}

/** A timer armed with less lead than this may fire after the deadline, so poll instead. */
const TIMER_SLACK_MS = 1.5;

export class DeadlineScheduler {
  private readonly heap: Task[] = [];
  private readonly window: number;
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));
  private timeout: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Deadline the pending timeout was armed for. */
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(options: SchedulerOptions) {
    this.window = options.preciseWaitMs;
  }

  get size(): number {
    return this.heap.length;
  }

  /**
   * Run `run(now)` at `deadline` (or as soon after as possible). It returns the task's next
   * deadline, or null when the task is done.
   */
  schedule(deadline: number, run: (now: number) => number | null): Task {
    const task = new Task(deadline, run);
    this.push(task);
    if (this.heap[0] === task) this.arm();
    return task;
  }

  cancel(task: Task): void {
    if (task.index < 0) return;
    this.removeAt(task.index);
    if (this.heap.length === 0) this.disarm();
  }

  /** Drop every task and timer. */
  clear(): void {
    for (const t of this.heap) t.index = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private readonly tick = (): void => {
    this.timeout = undefined;
    this.immediate = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const top = this.heap[0];
    if (top !== undefined && this.window > 0) {
      const rest = top.deadline - performance.now();
      if (rest > 0 && rest <= this.window) Atomics.wait(this.cell, 0, 0, rest);
    }
    this.runDue();
    this.arm();
  };

  private runDue(): void {
    const now = performance.now();
    let top = this.heap[0];
    while (top !== undefined && top.deadline <= now) {
      this.removeAt(0);
      let next: number | null = null;
      try {
        next = top.run(now);
      } catch (e) {
        // A broken stream must not stop the others.
        console.error("hub sim: scheduled task failed:", e);
      }
      if (next !== null) {
        top.deadline = next;
        this.push(top);
      }
      top = this.heap[0];
    }
  }

  private arm(): void {
    const top = this.heap[0];
    if (top === undefined) return this.disarm();
    if (this.immediate !== undefined) return; // a tick is already queued
    if (this.timeout !== undefined && this.armedFor <= top.deadline) return;
    this.disarm();
    const rest = top.deadline - performance.now();
    if (rest <= this.window) {
      // Due, or close enough to wait precisely: tick on the next loop turn, after pending I/O.
      this.immediate = setImmediate(this.tick);
    } else if (this.window > 0 && rest < this.window + TIMER_SLACK_MS) {
      // Too close for a ms timer to land inside the window: poll the loop until it is.
      this.immediate = setImmediate(this.tick);
    } else {
      this.timeout = setTimeout(this.tick, Math.max(1, this.window > 0 ? rest - this.window - 0.5 : rest));
      this.armedFor = top.deadline;
    }
  }

  private disarm(): void {
    if (this.timeout !== undefined) clearTimeout(this.timeout);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timeout = undefined;
    this.immediate = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  // Binary min-heap on deadline.

  private push(task: Task): void {
    task.index = this.heap.length;
    this.heap.push(task);
    this.up(task.index);
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const task = heap[i]!;
    const last = heap.pop()!;
    task.index = -1;
    if (last !== task) {
      heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
  }

  private up(i: number): void {
    const heap = this.heap;
    const task = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.deadline <= task.deadline) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = task;
    task.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const task = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]!.deadline < heap[l]!.deadline ? r : l;
      const child = heap[c]!;
      if (child.deadline >= task.deadline) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = task;
    task.index = i;
  }
}
