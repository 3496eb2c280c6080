"""Turns bench/results/*.json into a Markdown table and a p99-versus-clients plot.

Each run is its own file, `{server}-{scenario}-r{repeat}.json` (a file without `-rN` counts as
one run), with the machine's load average beside it in `.load`. The table quotes the median of
the runs with their range, and the load averages seen."""
import json
import os
import platform
import re
import statistics
import sys
from datetime import date
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results")
servers = [
    ("concord", "Concord"),
    ("reference", "@y/websocket-server 0.1.1"),
    ("ysweet", "y-sweet 0.9.1"),
    ("hocuspocus", "Hocuspocus 4.7.0"),
]

# label ("concord-S2") -> list of run results
runs = {}
loads = {}
for path in sorted(out.glob("*.json")):
    match = re.fullmatch(r"(.+?)(?:-r(\d+))?", path.stem)
    label = match.group(1)
    runs.setdefault(label, []).append(json.loads(path.read_text()))
    load = path.with_suffix(".load")
    if load.exists():
        try:
            loads.setdefault(label.split("-")[0], []).append(float(load.read_text().split()[0]))
        except (ValueError, IndexError):
            pass
present = [(s, label) for s, label in servers if any(k.startswith(f"{s}-") for k in runs)]


def values(label, *keys, when=None):
    found = []
    for r in runs.get(label, []):
        if when and not when(r):
            continue
        value = r
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)):
            found.append(value)
    return found


def fmt(value, digits=1):
    if value is None:
        return "n/a"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.{digits}f}"


def median_range(found, digits=1):
    if not found:
        return "n/a"
    m = statistics.median(found)
    if len(found) == 1 or min(found) == max(found):
        return fmt(m, digits)
    return f"{fmt(m, digits)} ({fmt(min(found), digits)}–{fmt(max(found), digits)})"


def s3_steps(server):
    steps = {}
    for label, rs in runs.items():
        m = re.fullmatch(rf"{server}-S3-(\d+)", label)
        if m:
            clients = int(m.group(1))
            steps[clients] = {
                "p99": [r["latency_ms"]["p99"] for r in rs],
                "lost": [r["lost"] for r in rs],
                "connected": [r.get("connected", 0) for r in rs],
                "cpu": [r["server_cpu_us_per_delivery"] for r in rs if r.get("server_cpu_us_per_delivery") is not None],
            }
    return dict(sorted(steps.items()))


def s3_best(server):
    ok = [c for c, s in s3_steps(server).items()
          if statistics.median(s["p99"]) < 100 and max(s["lost"]) == 0 and min(s["connected"]) == c]
    return str(max(ok)) if ok else "n/a"


complete = lambda r: r.get("complete", False)
rows = [
    ("S1 p99 latency (ms)", lambda s: median_range(values(f"{s}-S1", "latency_ms", "p99"))),
    ("S1 server CPU per delivery (µs)", lambda s: median_range(values(f"{s}-S1", "server_cpu_us_per_delivery"))),
    ("S2 p50 latency (ms)", lambda s: median_range(values(f"{s}-S2", "latency_ms", "p50"))),
    ("S2 p99 latency (ms)", lambda s: median_range(values(f"{s}-S2", "latency_ms", "p99"))),
    ("S2 server CPU per delivery (µs)", lambda s: median_range(values(f"{s}-S2", "server_cpu_us_per_delivery"))),
    ("S2 of which in user space (µs)", lambda s: median_range(values(f"{s}-S2", "server_user_cpu_us_per_delivery"))),
    ("S2 deliveries lost", lambda s: median_range(values(f"{s}-S2", "lost"), 0)),
    ("S3 most clients on one doc, p99 < 100 ms, none lost", s3_best),
    ("S4 server memory per idle 5 KB document (KiB)", lambda s: median_range(values(f"{s}-S4", "server_kib_per_doc"))),
    ("S5 first load after a restart, to full text (ms)", lambda s: median_range(values(f"{s}-S5", "ms_to_full_text", when=complete))),
    ("S5 later loads (ms)", lambda s: median_range(values(f"{s}-S5-later", "ms_to_full_text", when=complete))),
    ("S5 of which the client's own yrs integration (ms)", lambda s: median_range(values(f"{s}-S5", "ms_client_applying", when=complete))),
]

cpu = ""
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except Exception:
    pass
repeats = max((len(rs) for rs in runs.values()), default=0)
lines = [
    f"Measured {date.today().isoformat()} on {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
    "server and load generator on the same machine, over loopback; servers in turn run by run, "
    f"each started afresh; medians of {repeats} run(s), ranges in brackets "
    "(`bash bench/run.sh`).",
    "",
    "| scenario | " + " | ".join(label for _, label in present) + " |",
    "|---|" + "---|" * len(present),
]
for title, fn in rows:
    lines.append(f"| {title} | " + " | ".join(fn(s) for s, _ in present) + " |")
seen_loads = "; ".join(f"{label} {fmt(min(loads[s]), 2)}–{fmt(max(loads[s]), 2)}" for s, label in present if loads.get(s))
if seen_loads:
    lines.append("")
    lines.append(f"Load average (1 min) of the machine at the start of each run: {seen_loads}.")
lines.append("")
lines.append("S3 steps (clients: median p99 ms, most lost in a run, median µs CPU per delivery):")
lines.append("")
for s, label in present:
    steps = ", ".join(
        f"{c}: {fmt(statistics.median(v['p99']), 0)} ms / {max(v['lost'])} lost / "
        f"{fmt(statistics.median(v['cpu'])) if v['cpu'] else 'n/a'} µs"
        + ("" if min(v["connected"]) == c else f" ({min(v['connected'])} connected)")
        for c, v in s3_steps(s).items())
    lines.append(f"- {label}: {steps or 'n/a'}")
for s, label in present:
    incomplete = [r for r in runs.get(f"{s}-S5", []) if not complete(r)]
    if incomplete:
        lines.append(f"- {label}: S5 incomplete in {len(incomplete)} run(s): the reloaded document had "
                     f"{incomplete[0].get('chars')} characters (its persistence had not written everything).")
report = "\n".join(lines) + "\n"
(out / "report.md").write_text(report)
print(report)

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib missing: no plot")
    sys.exit(0)
fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
for (s, label), marker in zip(present, ["o", "s", "^", "D"]):
    steps = s3_steps(s)
    if steps:
        ax.plot(list(steps), [statistics.median(v["p99"]) for v in steps.values()], marker=marker, label=label)
ax.axhline(100, color="grey", linestyle="--", linewidth=1)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("clients on one document (10 writers, 5 edits/s each)")
ax.set_ylabel("median p99 delivery latency (ms)")
ax.set_title(f"End-to-end latency against client count ({date.today().isoformat()})")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(out / "p99.png")
