"""``lowcode start``: the whole stack in one command, Procfile-style.

With Redis (any site of the bench): web (``lowcode serve --workers N``: uvicorn's own
worker processes share one port), N RQ workers, the scheduler and the realtime service,
each a child process. Without Redis: only the web process, which runs the background jobs
on a thread and ticks the scheduler on another (``serve --with-scheduler``); several web
processes would need Redis, so they are refused.

The children are kept by supervisor, running in this process (nodaemon) on a config written
for the run (templates/supervisord.conf.jinja). Supervisor rather than honcho: honcho's
Manager follows foreman's rule (one child ends, all stop), while supervisor restarts a
crashed child with back-off, logs it by name ("exited: web (terminated by SIGKILL; not
expected)", "spawned: 'web' with pid N"), puts children in their own process group (a
terminal's Ctrl+C reaches only supervisor) and on SIGINT/SIGTERM stops them with SIGTERM,
then SIGKILL after ``stopwaitsecs``. The exit status says how it ended: see EXIT_*.
"""
import contextlib
import os
import shlex
import signal
import sys
import tempfile

from . import sites
from .exceptions import CommandError

EXIT_CLEAN = 0       # stopped by SIGINT/SIGTERM, every child ended within the grace period
EXIT_GAVE_UP = 1     # a child kept dying at start: supervisor gave up on it and the stack stopped
EXIT_KILLED = 2      # stopped, but some child had to be killed with SIGKILL after the grace period

STARTSECS = 10       # a child that dies sooner counts as a failed start (back-off, then given up)
STARTRETRIES = 10    # back-off of 1, 2, ... 10 s: about a minute of retries before giving up


def has_redis(bench):
    from .jobs import redis_url
    return any(redis_url(sites.get_site_config(s, bench)) for s in sites.list_sites(bench))


def lowcode_command(*args, bench=None):
    """The argv that runs ``lowcode`` with this interpreter (so the same venv and PYTHONPATH)."""
    return [sys.executable, "-m", "lowcode", *(("--sites-path", bench) if bench else ()), *args]


def programs(bench, host="127.0.0.1", port=8000, web_processes=None, workers=None, scheduler_interval=60,
             site=None):
    """[(name, argv, numprocs)] of the stack for this bench; with ``site``, the workers and the
    scheduler work for that site only (the web processes serve every site, by Host)."""
    only = ("--site", site) if site else ()
    if not has_redis(bench):
        if web_processes not in (None, 1):
            raise CommandError("several web processes need Redis (no site of the bench has redis_cache or "
                               "redis_queue): without it, jobs, the scheduler and realtime live in the one "
                               "web process")
        if workers:
            raise CommandError("--workers needs Redis: without it, background jobs run in the web process")
        return [("web", lowcode_command("serve", "--host", host, "--port", str(port), "--with-scheduler",
                                        "--scheduler-interval", str(scheduler_interval), bench=bench), 1)]
    # Two web processes by default: one busy or restarting process does not stall the desk.
    web_processes = 2 if web_processes is None else web_processes
    workers = 1 if workers is None else workers
    stack = [("web", lowcode_command("serve", "--host", host, "--port", str(port), "--workers",
                                     str(web_processes), "--no-realtime", bench=bench), 1)]
    if workers:
        stack.append(("worker", lowcode_command(*only, "worker", bench=bench), workers))
    stack.append(("scheduler", lowcode_command(*only, "scheduler", "--interval", str(scheduler_interval),
                                               bench=bench), 1))
    stack.append(("realtime", lowcode_command("realtime", "--host", host, bench=bench), 1))
    return stack


def check_ports(bench, host, port):
    """Refuse at once a port another program holds: a child that cannot listen would be
    retried for a minute before the stack gave up. The realtime port matters only with
    Redis (without it the web process goes on without live updates, and says so)."""
    import socket
    from .realtime.server import socketio_port
    wanted = [("--port", port)] + ([("socketio_port", socketio_port(bench))] if has_redis(bench) else [])
    for what, number in wanted:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                probe.bind((host, number))
            except OSError as e:
                raise CommandError(f"{host}:{number} ({what}) is not free: {e.strerror}")


def _escape(text):
    # Supervisor expands %(name)s in its values: a literal % is written %%.
    return text.replace("%", "%%")


def render_config(stack, run_dir, grace, directory=None, retries=STARTRETRIES):
    from .production import render
    import getpass
    return render("supervisord.conf.jinja", run_dir=_escape(run_dir), grace=grace,
                  user=getpass.getuser() if os.geteuid() == 0 else None,
                  directory=_escape(directory or os.getcwd()), startsecs=STARTSECS, startretries=retries,
                  programs=[{"name": name, "command": _escape(shlex.join(argv)), "numprocs": numprocs}
                            for name, argv, numprocs in stack])


class Outcome:
    """Listens to supervisor: what was given up, what had to be killed (pid -> name of the
    children being stopped)."""

    def __init__(self, grace):
        self.grace = grace
        self.stopping = {}
        self.killed = set()
        self.gave_up = set()
        self.partial = {}

    def listen(self, supervisor):
        from supervisor import events
        from supervisor.states import SupervisorStates

        def name(event):
            return event.process.config.name

        def stopping(event):
            self.stopping[event.process.pid] = name(event)

        def fatal(event):
            self.gave_up.add(name(event))
            supervisor.options.logger.critical(f"lowcode start: {name(event)} keeps failing; stopping the stack")
            supervisor.options.mood = SupervisorStates.SHUTDOWN

        def output(event):
            # Procfile-style: each line of a child's output prefixed with its name.
            key = name(event)
            text = self.partial.pop(key, b"") + event.data
            *lines, rest = text.split(b"\n")
            if rest:
                self.partial[key] = rest
            for line in lines:
                sys.stdout.write(f"{key:<12}| {line.decode('utf-8', 'replace')}\n")
            sys.stdout.flush()

        events.subscribe(events.ProcessLogStdoutEvent, output)
        events.subscribe(events.ProcessStateStoppingEvent, stopping)
        events.subscribe(events.ProcessStateFatalEvent, fatal)

    def reaped(self, pid, status):
        # A child being stopped that ended by SIGKILL: supervisor's, once stopwaitsecs passed.
        if pid in self.stopping and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            self.killed.add(self.stopping[pid])

    def exit_status(self):
        if self.gave_up:
            print(f"lowcode start: gave up on {', '.join(sorted(self.gave_up))}", file=sys.stderr)
            return EXIT_GAVE_UP
        if self.killed:
            print(f"lowcode start: killed {', '.join(sorted(self.killed))} after the {self.grace} s grace period",
                  file=sys.stderr)
            return EXIT_KILLED
        print("lowcode start: every process stopped cleanly", file=sys.stderr)
        return EXIT_CLEAN


def run(stack, grace=10, directory=None, retries=STARTRETRIES):
    """Run the stack until SIGINT/SIGTERM (or a child is given up); returns the exit status."""
    from supervisor.medusa import asyncore_25 as asyncore
    from supervisor.options import ServerOptions
    from supervisor.states import SupervisorStates
    from supervisor.supervisord import Supervisor

    outcome = Outcome(grace)

    class Options(ServerOptions):
        def waitpid(self):
            pid, status = super().waitpid()
            if pid:
                outcome.reaped(pid, status)
            return pid, status

    class Manager(Supervisor):
        def runforever(self):
            outcome.listen(self)  # after run() has cleared the event subscriptions
            super().runforever()

    with tempfile.TemporaryDirectory(prefix="lowcode-start-") as run_dir:
        path = os.path.join(run_dir, "supervisord.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(render_config(stack, run_dir, grace, directory, retries))
        while True:  # supervisord.main's loop: SIGHUP restarts every child
            options = Options()
            options.realize(["-c", path, "-n"])
            options.first, options.test = True, False  # first: never "cleanup_fds" (our own files stay open)
            manager = Manager(options)
            try:
                manager.main()
            except asyncore.ExitNow:
                pass
            except BaseException:
                _kill_children(manager)  # a failure of our own must not leave them running
                raise
            options.close_httpservers()
            options.close_logger()
            if options.mood != SupervisorStates.RESTARTING or outcome.gave_up:
                break
    return outcome.exit_status()


def _kill_children(manager):
    for group in getattr(manager, "process_groups", {}).values():
        for process in group.processes.values():
            if process.pid:
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)  # each child leads its own process group
