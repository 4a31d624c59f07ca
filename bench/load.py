"""HTTP load with wrk (Debian's ``wrk``, a separate process) against a running server."""

from __future__ import annotations

import re
import shutil
import subprocess

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS_MS[unit]


def parse_wrk(output: str) -> dict:
    """Requests/s, latency percentiles (ms), request count and errors from ``wrk --latency``."""
    result: dict = {"errors": 0, "non_2xx_3xx": 0}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["requests_per_s"] = float(rate.group(1)) if rate else 0.0
    count = re.search(r"(\d+) requests in", output)
    result["requests"] = int(count.group(1)) if count else 0
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+(?:us|ms|s|m))", output, re.M)
        if match:
            result[f"p{pct}_ms"] = _ms(match.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        result["errors"] = sum(int(x) for x in sockets.groups())
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_ok:
        result["non_2xx_3xx"] = int(non_ok.group(1))
    return result


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, duration_s: int, connections: int, threads: int = 1) -> dict:
    """One bounded wrk run (gzip accepted, as browsers do)."""
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "--timeout",
        "5s",
        "-H",
        "Accept-Encoding: gzip",
        url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration_s + 60)
    result = parse_wrk(done.stdout)
    result["exit_code"] = done.returncode
    return result
