"""The admission phase of bench/peers (and admission.py): bursts through wrk (wrk_burst.py) against one Atelier.

Rows, in this order, each over C connections (C = N: all at once, one request per connection):
- `GET /healthz`, 10×N requests over 64 connections: the ceiling of wrk, HTTP and this machine (no database write);
- N `POST /v1/generate` refused at validation (`size` 7x7: 400, nothing written but the request's rate-limit hit);
- N `POST /v1/generate` admitted (202): jobs/s = N / (first request written → last 202 read)."""
import wrk_burst

CONNECTIONS = (2000, 64)


def run(base_url, headers, body, jobs, connections=CONNECTIONS):
    """`base_url` is Atelier's `…/v1`; returns the rows (dicts) and prints nothing."""
    root = base_url.rsplit("/v1", 1)[0]
    rows = [_row("GET /healthz", 64, wrk_burst.burst(root + "/healthz", jobs * 10, 64), (200,))]
    for label, payload, accepted in (("refused (400)", {**body, "size": "7x7"}, (400,)), ("admitted (202)", body, (202,))):
        for count in connections:
            count = min(count, jobs)
            result = wrk_burst.burst(base_url + "/generate", jobs, count, payload, headers)
            rows.append(_row(f"POST /v1/generate {label}", count, result, accepted))
    return rows


def _row(what, connections, result, accepted):
    ok = wrk_burst.count(result, accepted)
    return {"what": what, "requests": result["requests"], "connections": connections, "wall_s": result["wall_s"],
            "per_s": ok / result["wall_s"], "ok": ok, "errors": result["requests"] - ok,
            "statuses": result["statuses"], "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"]}


def summary(rows):
    """The figures the report's goal line reads: the admitted burst with all connections at once."""
    admitted = [r for r in rows if r["what"].endswith("admitted (202)")]
    best = max(admitted, key=lambda r: r["connections"])
    refused = next(r for r in rows if r["what"].endswith("refused (400)") and r["connections"] == best["connections"])
    return {"admitted": best["ok"], "errors": best["errors"], "wall_s": best["wall_s"], "jobs_per_s": best["per_s"],
            "refused_per_s": refused["per_s"], "refused_errors": refused["errors"], "rows": rows}


def markdown(rows):
    lines = ["| requests | connections | answered as expected | wall (s) | per s | p50 (ms) | p99 (ms) | statuses |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(r["statuses"].items()))
        lines.append(f"| {r['requests']:,} {r['what']} | {r['connections']:,} | {r['ok']:,} | {r['wall_s']:.2f} | "
                     f"**{r['per_s']:,.0f}** | {r['p50_ms']:,.1f} | {r['p99_ms']:,.1f} | {statuses} |")
    return lines
