"""pip-audit of requirements.txt, with accepted findings and a loud report of what it could not
check. Run by ``make audit`` (a step of ``make test``).

- A vulnerability in a pinned package fails the run, unless its id is in ``.pip-audit-ignore``
  (one ``ID  reason`` per line, ``#`` comments; the reason is required): passed to pip-audit as
  ``--ignore-vuln ID`` and printed with its reason on every run.
- pip-audit asks the vulnerability service (PyPI's JSON API by default) about each pinned
  version. When it cannot answer (no network, or a registry mirror without that API), the
  packages are "not audited": the run prints how many and why, and passes, because a network
  fact must not block every change; with ``PIP_AUDIT_STRICT=1`` it fails instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE_FILE = ROOT / ".pip-audit-ignore"


class IgnoreFileError(ValueError):
    """A line of the ignore file has no reason."""


def read_ignores(path: Path) -> dict[str, str]:
    """``{vulnerability id: reason}`` from the ignore file (missing file: none)."""
    if not path.exists():
        return {}
    ignores = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split(None, 1)
        if len(parts) < 2:
            raise IgnoreFileError(f"{path.name}:{number}: give a reason after {parts[0]}")
        ignores[parts[0]] = parts[1].strip()
    return ignores


def command(requirements: Path, ignores: dict[str, str], report: Path) -> list[str]:
    bin_dir = Path(sys.executable).parent
    args = [str(bin_dir / "pip-audit"), "-r", str(requirements), "--no-deps", "--disable-pip"]
    args += ["--progress-spinner", "off", "--format", "json", "--output", str(report)]
    for vuln_id in sorted(ignores):
        args += ["--ignore-vuln", vuln_id]
    return args


def summarise(report: dict, ignores: dict[str, str], strict: bool) -> tuple[int, list[str]]:
    """(exit status, lines to print) from pip-audit's JSON report."""
    dependencies = report.get("dependencies", [])
    found = [
        (dep["name"], dep["version"], vuln["id"])
        for dep in dependencies
        for vuln in dep.get("vulns", [])
        if vuln["id"] not in ignores
    ]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    lines = [f"pip-audit: {audited} of {len(dependencies)} pinned packages audited"]
    lines += [f"  accepted {vuln_id}: {reason}" for vuln_id, reason in sorted(ignores.items())]
    lines += [f"  VULNERABLE {name} {version}: {vuln_id}" for name, version, vuln_id in found]
    status = 1 if found else 0
    if skipped:
        reason = skipped[0]["skip_reason"]
        lines.append(
            f"  WARNING: {len(skipped)} packages NOT AUDITED (the vulnerability service did "
            f"not answer for them), e.g. {reason}"
        )
        if strict:
            lines.append("  PIP_AUDIT_STRICT=1: failing because of unaudited packages")
            status = 1
    return status, lines


def main() -> int:
    try:
        ignores = read_ignores(IGNORE_FILE)
    except IgnoreFileError as exc:
        print(f"pip-audit: {exc}", file=sys.stderr)
        return 2
    report_path = ROOT / "build" / "pip-audit.json"
    report_path.parent.mkdir(exist_ok=True)
    report_path.unlink(missing_ok=True)
    run = subprocess.run(
        command(ROOT / "requirements.txt", ignores, report_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if not report_path.exists() or run.returncode not in (0, 1):
        print(f"pip-audit could not run ({run.returncode}): {run.stderr[-2000:]}", file=sys.stderr)
        return 2
    strict = os.environ.get("PIP_AUDIT_STRICT") == "1"
    status, lines = summarise(json.loads(report_path.read_text()), ignores, strict)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
