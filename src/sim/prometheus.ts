/**
 * The simulator's /metrics: Prometheus text format 0.0.4 with vLLM's metric names and buckets,
 * every sample labelled model_name="<model>", so harnesses that scrape vLLM work unchanged.
 * Metrics vLLM has no name for use the hub_sim: prefix.
 */

// vLLM's bucket boundaries (vllm/v1/metrics/loggers.py), in seconds.
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const REQUEST_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  readonly bounds: readonly number[];
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    // Non-cumulative here; cumulated when rendered.
    for (let i = 0; i < this.bounds.length; i++) {
      if (v <= this.bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

export class SimMetrics {
  running = 0;
  waiting = 0;
  promptTokens = 0;
  generationTokens = 0;
  success = 0;
  failures = 0;
  aborted = 0;
  readonly ttft = new Histogram(TTFT_BUCKETS);
  readonly itl = new Histogram(ITL_BUCKETS);
  readonly e2e = new Histogram(REQUEST_BUCKETS);
  readonly queue = new Histogram(REQUEST_BUCKETS);
  private readonly label: string;

  constructor(model: string) {
    this.label = `model_name="${model.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
  }

  render(): string {
    const L = this.label;
    const out: string[] = [];
    const scalar = (name: string, type: "gauge" | "counter", help: string, value: number, extra = ""): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${L}${extra}} ${fmt(value)}`);
    };
    const histogram = (name: string, help: string, h: Histogram): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
      let cum = 0;
      h.bounds.forEach((b, i) => {
        cum += h.counts[i]!;
        out.push(`${name}_bucket{${L},le="${fmt(b)}"} ${cum}`);
      });
      out.push(`${name}_bucket{${L},le="+Inf"} ${h.count}`, `${name}_sum{${L}} ${fmt(h.sum)}`, `${name}_count{${L}} ${h.count}`);
    };
    scalar("vllm:num_requests_running", "gauge", "Number of requests generating.", this.running);
    scalar("vllm:num_requests_waiting", "gauge", "Number of requests waiting in the queue.", this.waiting);
    scalar("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", this.promptTokens);
    scalar("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", this.generationTokens);
    scalar("vllm:request_success_total", "counter", "Count of successfully processed requests.", this.success, ',finished_reason="length"');
    scalar("hub_sim:request_failure_total", "counter", "Requests answered with an error status (injected or invalid).", this.failures);
    scalar("hub_sim:request_aborted_total", "counter", "Requests the client disconnected from before the end.", this.aborted);
    histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", this.ttft);
    histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", this.itl);
    // The older vLLM name for the same per-gap distribution.
    histogram("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", this.itl);
    histogram("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", this.e2e);
    histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", this.queue);
    return out.join("\n") + "\n";
  }
}

function fmt(v: number): string {
  return Number.isInteger(v) ? `${v}.0` : String(v);
}
