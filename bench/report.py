"""Turns bench/results/*.json into a Markdown table and a p99-versus-clients plot."""
import json
import os
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results")
results = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
servers = [("concord", "Concord"), ("reference", "y-websocket-server 0.1.1")]


def get(name, *keys):
    value = results.get(name)
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def s3_steps(server):
    steps = []
    for name, r in results.items():
        if name.startswith(f"{server}-S3-"):
            steps.append((r["clients"], r["latency_ms"]["p99"], r["lost"], r.get("connected", 0), r.get("server_cpu_us_per_delivery")))
    return sorted(steps)


def s3_best(server):
    ok = [c for c, p99, lost, connected, _ in s3_steps(server) if p99 < 100 and lost == 0 and connected == c]
    return max(ok) if ok else None


def fmt(value, digits=1):
    if value is None:
        return "n/a"
    if isinstance(value, (int,)) or float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.{digits}f}"


rows = [
    ("S1 p99 latency (ms)", lambda s: get(f"{s}-S1", "latency_ms", "p99")),
    ("S1 server CPU per delivery (µs)", lambda s: get(f"{s}-S1", "server_cpu_us_per_delivery")),
    ("S2 p50 latency (ms)", lambda s: get(f"{s}-S2", "latency_ms", "p50")),
    ("S2 p99 latency (ms)", lambda s: get(f"{s}-S2", "latency_ms", "p99")),
    ("S2 server CPU per delivery (µs)", lambda s: get(f"{s}-S2", "server_cpu_us_per_delivery")),
    ("S2 deliveries lost", lambda s: get(f"{s}-S2", "lost")),
    ("S3 most clients on one doc, p99 < 100 ms, none lost", s3_best),
    ("S4 server memory per idle 5 KB document (KiB)", lambda s: get(f"{s}-S4", "server_kib_per_doc")),
    ("S5 cold load to full text (ms)", lambda s: get(f"{s}-S5", "ms_to_full_text") if get(f"{s}-S5", "complete") else None),
    ("S5 of which the client's own yrs integration (ms)", lambda s: get(f"{s}-S5", "ms_client_applying") if get(f"{s}-S5", "complete") else None),
]

cpu = ""
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except Exception:
    pass
lines = [
    f"Measured {date.today().isoformat()} on {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
    "server and load generator on the same machine, over loopback.",
    "",
    "| scenario | " + " | ".join(label for _, label in servers) + " | ratio |",
    "|---|" + "---|" * (len(servers) + 1),
]
for title, fn in rows:
    values = [fn(s) for s, _ in servers]
    ratio = ""
    if all(isinstance(v, (int, float)) and v for v in values):
        ratio = f"{values[0] / values[1]:.2f}x"
    lines.append(f"| {title} | " + " | ".join(fmt(v) for v in values) + f" | {ratio} |")
lines.append("")
lines.append("S3 steps (clients: p99 ms, lost, µs CPU per delivery):")
lines.append("")
for s, label in servers:
    steps = ", ".join(f"{c}: {fmt(p, 0)} ms / {lost} lost / {fmt(cpu_us)} µs" + ("" if conn == c else f" ({conn} connected)")
                      for c, p, lost, conn, cpu_us in s3_steps(s))
    lines.append(f"- {label}: {steps or 'n/a'}")
for s, label in servers:
    if get(f"{s}-S5", "complete") is False:
        lines.append(f"- {label}: S5 incomplete, the reloaded document had {get(f'{s}-S5', 'chars')} of "
                     f"{get(f'{s}-S5-build', 'chars')} characters (its persistence had not written everything).")
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
for (s, label), marker in zip(servers, ["o", "s"]):
    steps = s3_steps(s)
    if steps:
        ax.plot([c for c, *_ in steps], [p for _, p, *_ in steps], marker=marker, label=label)
ax.axhline(100, color="grey", linestyle="--", linewidth=1)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("clients on one document (10 writers, 5 edits/s each)")
ax.set_ylabel("p99 delivery latency (ms)")
ax.set_title("End-to-end latency against client count")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(out / "p99.png")
