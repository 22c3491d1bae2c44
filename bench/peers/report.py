"""Markdown tables and goals-vs-measured from the figures peers.py collects (`python report.py figures.json`
re-renders a saved run)."""
import admission_phase
import json
import sys

COMPAT = "Atelier /v1/images/generations"
LITELLM = "LiteLLM 1.108.7"
DIRECT = "direct (stand-in)"


def fmt(value, digits=1):
    return "—" if value is None or value != value else f"{value:,.{digits}f}"


def latency_table(figures):
    rows = figures["latency"]
    direct = rows[DIRECT]
    lines = [
        f"Upstream: stand-in, {figures['latency_ms']} ms latency, 1024×1024 PNG of {figures['image_bytes']:,} bytes "
        f"(noise, {figures['image_bytes'] * 4 / 3 / 1e6:.1f} MB as base64 JSON). Latency = request written → whole body read.",
        "",
        "| target | p50 @1 (ms) | p99 @1 (ms) | added p50 @1 (ms) | p50 @16 (ms) | p99 @16 (ms) | added p50 @16 (ms) "
        "| req/s @16 | peak RSS (MiB) | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        one, sixteen = row[1] if 1 in row else row["1"], row[16] if 16 in row else row["16"]
        d1, d16 = (direct[1] if 1 in direct else direct["1"]), (direct[16] if 16 in direct else direct["16"])
        added1 = None if name == DIRECT else one["p50_ms"] - d1["p50_ms"]
        added16 = None if name == DIRECT else sixteen["p50_ms"] - d16["p50_ms"]
        lines.append(
            f"| {name} | {fmt(one['p50_ms'])} | {fmt(one['p99_ms'])} | {fmt(added1)} | {fmt(sixteen['p50_ms'])} "
            f"| {fmt(sixteen['p99_ms'])} | {fmt(added16)} | {fmt(sixteen['rps'])} | {fmt(row.get('peak_rss_mib'))} "
            f"| {one['errors'] + sixteen['errors']} |")
    return "\n".join(lines)


def inflight_table(figures):
    rows = figures.get("inflight_runs") or {}
    if not rows:
        return ""
    direct = rows.get(DIRECT, {}).get("p50_ms")
    lines = [
        f"{figures['inflight']:,} requests in flight at once, upstream latency {figures['inflight_latency_ms'] / 1000:.0f} s, "
        "1024×1024 test-pattern PNG (small, so the run measures concurrency, not bytes).",
        "",
        "| target | p50 (s) | p99 (s) | p50 − direct p50 (s) | wall (s) | peak RSS (MiB) | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        late = None if name == DIRECT or direct is None else (row["p50_ms"] - direct) / 1000
        lines.append(f"| {name} | {fmt(row['p50_ms'] / 1000)} | {fmt(row['p99_ms'] / 1000)} | {fmt(late)} "
                     f"| {fmt(row['wall_s'])} | {fmt(row.get('peak_rss_mib'))} | {row['errors']} |")
    admission = figures.get("admission")
    if admission:
        lines += ["", f"Atelier admission on SQLite: {admission['admitted']:,} `POST /v1/generate` sent at once, all "
                  f"answered in {admission['wall_s']:.2f} s = **{admission['jobs_per_s']:,.0f} jobs/s** "
                  f"({admission['errors']} errors)."]
        if "refused_per_s" in admission and "rows" not in admission:
            lines[-1] += (f" The same burst refused at validation (`size` 7x7: 400, nothing written; sent just before), the ceiling of the "
                          f"client, HTTP and routing: {admission['refused_per_s']:,.0f} requests/s "
                          f"({admission['refused_errors']} errors).")
        if "rows" in admission:  # through wrk (admission_phase.py)
            lines += ["", "Admission through wrk (one C thread): the client's ceiling, the burst refused at validation, "
                      "the burst admitted, on the in-flight run's Atelier (SQLite) after its run, workers claiming meanwhile.", ""]
            lines += admission_phase.markdown(admission["rows"])
    return "\n".join(lines)


def goals(figures):
    rows = figures["latency"]
    get = lambda row, c: row[c] if c in row else row[str(c)]  # noqa: E731 - ints after a run, strings from JSON
    direct1, direct16 = get(rows[DIRECT], 1)["p50_ms"], get(rows[DIRECT], 16)["p50_ms"]
    compat = rows.get(COMPAT)
    lines = ["| goal | measured | met |", "|---|---|---|"]
    if compat:
        added1 = get(compat, 1)["p50_ms"] - direct1
        lines.append(f"| compatible route, added p50 at 1 concurrent ≤ 5 ms | {added1:.1f} ms | {'yes' if added1 <= 5 else 'no'} |")
        added16 = get(compat, 16)["p50_ms"] - direct16
        if LITELLM in rows:
            litellm16 = get(rows[LITELLM], 16)["p50_ms"] - direct16
            share = added16 / litellm16 * 100 if litellm16 > 0 else float("nan")
            lines.append(f"| compatible route, added p50 at 16 ≤ 10% of LiteLLM's | {added16:.1f} ms = {share:.0f}% of "
                         f"LiteLLM's {litellm16:.1f} ms | {'yes' if share <= 10 else 'no'} |")
        sixteen = get(compat, 16)
        if "peak_rss_mib" in sixteen:
            per_job = (sixteen["peak_rss_mib"] - sixteen["rss_before_mib"]) / 16 * 1048576
            ratio = per_job / figures["image_bytes"]
            lines.append(f"| peak RSS per in-flight streamed job ≤ 1.5× image bytes (16 in flight, growth over idle) "
                         f"| {per_job / 1048576:.1f} MiB = {ratio:.2f}× | {'yes' if ratio <= 1.5 else 'no'} |")
    flight = figures.get("inflight_runs") or {}
    if COMPAT in flight and DIRECT in flight:
        late = (flight[COMPAT]["p50_ms"] - flight[DIRECT]["p50_ms"]) / 1000
        lines.append(f"| {figures['inflight']:,} in flight: p50 within 2 s of direct | +{late:.1f} s | {'yes' if late <= 2 else 'no'} |")
    admission = figures.get("admission")
    if admission:
        rate = admission["jobs_per_s"]
        lines.append(f"| admission ≥ 1,000 jobs/s on SQLite | {rate:,.0f} jobs/s | {'yes' if rate >= 1000 else 'no'} |")
    return "\n".join(lines)


def render(figures):
    head = (f"## Peers, {figures['date']} (commit {figures['commit']}, {figures['cores']} cores, "
            f"{figures['binary']})")
    if "load_before" in figures:  # uptime's 1/5/15-minute load averages, before and after the run
        load = lambda key: "/".join(f"{value:.1f}" for value in figures.get(key) or [])  # noqa: E731
        head += f"\n\nLoad average (1/5/15 min) before the run {load('load_before')}, after {load('load_after')}."
    return "\n\n".join(filter(None, [head, latency_table(figures), inflight_table(figures), "Goals (issue 13):", goals(figures)]))


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print(render(json.load(file)))
