"""The targets of bench/peers: the stand-in (direct), LiteLLM, the Flask baseline and Atelier, started on free ports."""
import os
import sys

from processes import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
MASTER_KEY = "sk-litellm-bench-master-key-0123456789abcdef"  # LiteLLM wants ≥ 32 characters


UPSTREAM_KEY = {"Authorization": "Bearer sk-bench"}


class Target:
    def __init__(self, name, url, pid=None, headers=None, check="images"):
        self.name, self.url, self.pid, self.headers, self.check = name, url, pid, headers or {}, check


def start_stand_in(processes, name, binary, latency_ms, noise):
    port = free_port()
    argv = [binary, "stand-in", "--port", str(port), "--latency-ms", str(latency_ms), "--reuse-images"]
    if noise:
        argv += ["--noise-uniform"]
    processes.start(name, argv, ready=f"http://127.0.0.1:{port}/_standin/stats")
    return f"http://127.0.0.1:{port}/v1"


def start_litellm(processes, upstream, venv, work_dir):
    port = free_port()
    config = os.path.join(work_dir, "litellm.yaml")
    with open(config, "w") as file:
        file.write(
            "model_list:\n"
            "  - model_name: gpt-image-2\n"
            "    litellm_params:\n"
            "      model: openai/gpt-image-2\n"
            f"      api_base: {upstream}\n"
            "      api_key: sk-bench\n"
            "general_settings:\n"
            f"  master_key: {MASTER_KEY}\n")
    process = processes.start(
        "litellm", [os.path.join(venv, "bin", "litellm"), "--config", config, "--host", "127.0.0.1", "--port", str(port)],
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"}, ready=f"http://127.0.0.1:{port}/health/liveliness", seconds=240)
    return Target("LiteLLM 1.108.7", f"http://127.0.0.1:{port}/v1/images/generations", process.pid,
                  {"Authorization": f"Bearer {MASTER_KEY}"})


def start_flask(processes, upstream, work_dir):
    port = free_port()
    process = processes.start(
        "flask", [sys.executable, os.path.join(HERE, "flask_gateway.py"), "--port", str(port), "--upstream", upstream,
                  "--data-dir", os.path.join(work_dir, "flask-data")],
        ready=f"http://127.0.0.1:{port}/healthz")
    return Target("seed-style Flask", f"http://127.0.0.1:{port}/v1/images/generations", process.pid)


def start_atelier(processes, binary, upstream, work_dir, name="atelier", concurrency=2048, database_url=""):
    port = free_port()
    many = str(concurrency)
    env = {
        "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": upstream, "DATA_DIR": os.path.join(work_dir, name + "-data"),
        "ATELIER_AUTH": "off", "LOG_LEVEL": os.environ.get("ATELIER_LOG_LEVEL", "error"), "DATABASE_URL": database_url,
        "WORKER_CONCURRENCY": many, "WORKER_PER_OWNER_LIMIT": many, "MAX_OPEN_STREAMS": many,
        "MAX_OPEN_STREAMS_PER_USER": many, "RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
        "RATE_LIMIT_IMAGES_PER_MINUTE": "1000000", "GLOBAL_DAILY_CAP_USD": "none", "DEFAULT_DAILY_CAP_USD": "none",
        "DEFAULT_MONTHLY_CAP_USD": "1000000", "PUBLIC_DIR": os.path.join(HERE, "..", "..", "Public"),
    }
    process = processes.start(name, [binary, "serve", "--hostname", "127.0.0.1", "--port", str(port)], env=env,
                              ready=f"http://127.0.0.1:{port}/healthz")
    base = f"http://127.0.0.1:{port}/v1"
    local_user = {"Authorization": "Bearer sk-placeholder"}  # login off: a non-atl_ key is the local user, no CSRF
    return [Target("Atelier /v1/images/generations", base + "/images/generations", process.pid, local_user),
            Target("Atelier /v1/generate?wait", base + "/generate?wait=60", process.pid, local_user, check="job")]
