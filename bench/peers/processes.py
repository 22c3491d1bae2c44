"""Starting, watching and stopping the benchmark's processes; free ports; peak RSS from /proc (bench/peers)."""
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url, process, seconds=120, headers=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before {url} answered (see its log)")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2):
                return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {seconds} s")


class Processes:
    """Every process started here, stopped (SIGTERM, then SIGKILL) by `stop` or at the end."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.running = {}

    def start(self, name, argv, env=None, ready=None, ready_headers=None, seconds=120):
        log = open(os.path.join(self.log_dir, f"{name}.log"), "wb")
        process = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.running[name] = process
        if ready:
            wait_ready(ready, process, seconds, ready_headers)
        return process

    def stop(self, name):
        process = self.running.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()

    def stop_all(self):
        for name in list(self.running):
            self.stop(name)
        self.remove_data()

    def remove_data(self):
        """The gateways' data directories (`*-data`: databases and images, hundreds of MB per run) go once every
        process has stopped; the logs stay. BENCH_KEEP_DATA=1 keeps them for a look afterwards."""
        if os.environ.get("BENCH_KEEP_DATA") == "1":
            return
        for root, dirs, _ in os.walk(self.log_dir):
            for name in [d for d in dirs if d.endswith("-data")]:
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
                dirs.remove(name)


def process_tree(pid):
    """pid and its descendants (LiteLLM may fork workers)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mib(pid):
    """Sum of VmHWM (peak resident set) over the process tree, MiB."""
    return sum(status_kib(p, "VmHWM") for p in process_tree(pid)) / 1024


def rss_mib(pid):
    return sum(status_kib(p, "VmRSS") for p in process_tree(pid)) / 1024


def reset_peak(pid):
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0), so a phase's own peak can be read."""
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            pass
