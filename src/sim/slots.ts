/**
 * maxConcurrency: at most `max` requests generate at once; the rest wait first-in first-out.
 * Callback based (not promises) so a freed slot is handed over in the same tick.
 */

export interface Waiter {
  grant: () => void;
  cancelled: boolean;
}

export class Slots {
  running = 0;
  private readonly max: number;
  private queue: Waiter[] = [];
  private head = 0;
  private live = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.live;
  }

  /** Calls grant() now if a slot is free, else queues it; returns the waiter (to cancel) or null. */
  acquire(grant: () => void): Waiter | null {
    if (this.running < this.max) {
      this.running++;
      grant();
      return null;
    }
    const w: Waiter = { grant, cancelled: false };
    this.queue.push(w);
    this.live++;
    return w;
  }

  cancel(w: Waiter): void {
    if (w.cancelled) return;
    w.cancelled = true;
    this.live--;
  }

  release(): void {
    this.running--;
    while (this.head < this.queue.length && this.running < this.max) {
      const w = this.queue[this.head++]!;
      if (w.cancelled) continue;
      w.cancelled = true; // no longer cancellable: it holds a slot now
      this.live--;
      this.running++;
      w.grant();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
