"""The pip-audit step of CI (.ci/audit.py): accepted findings need a reason, real findings fail,
packages the vulnerability service did not answer for are reported (and fail when strict)."""

from __future__ import annotations

import importlib.util

import pytest

from geoapp.config import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("ci_audit", PROJECT_ROOT / ".ci" / "audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

REPORT = {
    "dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "jinja2", "version": "2.10", "vulns": [{"id": "PYSEC-1"}, {"id": "GHSA-2"}]},
    ]
}


def test_ignore_file_lines_need_a_reason(tmp_path):
    path = tmp_path / ".pip-audit-ignore"
    path.write_text("# comment\nPYSEC-1  only in the sandbox, never used\n\n")
    assert audit.read_ignores(path) == {"PYSEC-1": "only in the sandbox, never used"}
    path.write_text("GHSA-2\n")
    with pytest.raises(audit.IgnoreFileError, match="give a reason"):
        audit.read_ignores(path)
    assert audit.read_ignores(tmp_path / "none") == {}


def test_the_repository_ignore_file_is_valid():
    assert all(audit.read_ignores(audit.IGNORE_FILE).values())


def test_accepted_ids_become_ignore_vuln_arguments(tmp_path):
    args = audit.command(tmp_path / "r.txt", {"PYSEC-1": "why"}, tmp_path / "out.json")
    assert args[args.index("--ignore-vuln") + 1] == "PYSEC-1"
    assert "--no-deps" in args and "--disable-pip" in args


def test_a_finding_fails_unless_accepted():
    status, lines = audit.summarise(REPORT, {}, strict=False)
    assert status == 1 and "  VULNERABLE jinja2 2.10: PYSEC-1" in lines
    status, lines = audit.summarise(REPORT, {"PYSEC-1": "a", "GHSA-2": "b"}, strict=False)
    assert status == 0 and "  accepted GHSA-2: b" in lines
    assert lines[0] == "pip-audit: 2 of 2 pinned packages audited"


def test_unaudited_packages_are_reported_and_fail_only_when_strict():
    report = {"dependencies": [{"name": "x", "version": "1", "skip_reason": "not found"}]}
    status, lines = audit.summarise(report, {}, strict=False)
    assert status == 0 and "1 packages NOT AUDITED" in lines[-1]
    assert audit.summarise(report, {}, strict=True)[0] == 1
