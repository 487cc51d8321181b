/**
 * hub's side inside a harness pod: one Python program (standard library only), a constant, never
 * built from user input. The pod's command is `python3 -c POD_PROGRAM launch`; hub runs its other
 * commands through exec. Python is the one thing the image must have besides the harness (hub's
 * images have it; so do the harnesses' upstream ones).
 *
 *   launch     reads /hub/config/worker-$JOB_COMPLETION_INDEX.json ({argv, env, files, hostFiles}),
 *              writes the files, runs argv (its own process group, output to the pod log, cwd
 *              /results), writes "<exit code>[ <why>]" to /results/.hub-exit, waits (at most
 *              15 min) for /results/.hub-collected, then exits with the harness's code.
 *   status     prints .hub-exit's content, or exits 1 while the harness runs.
 *   tar        writes /results as a tar stream (pax) to stdout, hub's marker files left out.
 *   collected  creates .hub-collected: the launcher may exit.
 *   stop       creates .hub-stop: the launcher stops the harness (SIGINT, SIGTERM after 5 s,
 *              SIGKILL after 10 s), as Ctrl-C would.
 *   clock      for each line read from stdin, prints time.time(): hub's clock offset probe.
 *
 * SIGTERM (the pod being deleted) goes to the harness's group; once the harness has exited it
 * ends the wait for collection.
 */
export const POD_PROGRAM = String.raw`
import base64, json, os, signal, subprocess, sys, tarfile, time

RESULTS = "/results"
EXIT = RESULTS + "/.hub-exit"
COLLECTED = RESULTS + "/.hub-collected"
STOP = RESULTS + "/.hub-stop"
COLLECT_WAIT_S = 15 * 60
ESCALATION = ((0, signal.SIGINT), (5, signal.SIGTERM), (10, signal.SIGKILL))
terminating = False


def say(msg):
    print("hub launcher: " + msg, file=sys.stderr, flush=True)


def write(path, data):
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def mark(path, text=""):
    write(path + ".tmp", text.encode())
    os.replace(path + ".tmp", path)


def run(argv, env):
    global terminating
    try:
        child = subprocess.Popen(argv, env=env, cwd=RESULTS, start_new_session=True)
    except OSError as e:
        return 127 if isinstance(e, FileNotFoundError) else 126, "cannot start %s: %s" % (argv[0], e)

    def group(sig):
        try:
            os.killpg(child.pid, sig)
        except OSError:
            pass

    def on_signal(sig, _frame):
        global terminating
        terminating = True
        group(sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop_seen = None
    sent = 0
    while True:
        try:
            code = child.wait(timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            pass
        if stop_seen is None and os.path.exists(STOP):
            stop_seen = time.monotonic()
        while stop_seen is not None and sent < len(ESCALATION) and time.monotonic() - stop_seen >= ESCALATION[sent][0]:
            group(ESCALATION[sent][1])
            sent += 1
    # Workers the harness forked go with it.
    group(signal.SIGKILL)
    return (128 - code if code < 0 else code), ""


def launch():
    index = os.environ.get("JOB_COMPLETION_INDEX", "0")
    with open("/hub/config/worker-%s.json" % index) as f:
        spec = json.load(f)
    os.makedirs(RESULTS, exist_ok=True)
    try:
        for rel, content in spec.get("files", {}).items():
            write(os.path.join(RESULTS, rel), content.encode())
        for path, content in spec.get("hostFiles", {}).items():
            write(path, base64.b64decode(content))
    except OSError as e:
        code, why = 126, "cannot write the invocation's files: %s" % e
    else:
        env = dict(os.environ)
        env.update(spec.get("env", {}))
        code, why = run(spec["argv"], env)
    if why:
        say(why)
    mark(EXIT, ("%d %s" % (code, why)).strip())
    deadline = time.monotonic() + COLLECT_WAIT_S
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(code))
    while not terminating and not os.path.exists(COLLECTED) and time.monotonic() < deadline:
        time.sleep(0.2)
    sys.exit(code)


def status():
    try:
        with open(EXIT) as f:
            print(f.read().strip())
    except FileNotFoundError:
        sys.exit(1)


def tar():
    out = sys.stdout.buffer
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(RESULTS)):
            if not name.startswith(".hub-"):
                t.add(os.path.join(RESULTS, name), arcname=name)
    out.flush()


def clock():
    for _ in range(10):
        if not sys.stdin.readline():
            return
        print(repr(time.time()), flush=True)


commands = {"launch": launch, "status": status, "tar": tar, "clock": clock,
            "collected": lambda: mark(COLLECTED), "stop": lambda: mark(STOP)}
commands[sys.argv[1]]()
`;

/** The container's command. */
export const launchCommand = (): string[] => ["python3", "-c", POD_PROGRAM, "launch"];

/** An exec'd helper command; -S skips site-packages, which the helpers do not need (faster start). */
export const helperCommand = (cmd: "status" | "tar" | "collected" | "stop" | "clock"): string[] => ["python3", "-S", "-c", POD_PROGRAM, cmd];

/** Where things are in the pod. */
export const POD_PATHS = { results: "/results", config: "/hub/config", tokenizer: "/tokenizer" } as const;
