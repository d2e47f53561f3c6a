"""CI formats: GitHub annotations, SARIF 2.1.0 (validated against the official schema), GitLab, JUnit."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from helpers import run_cli, write
from test_cli_check import TYPO

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def project(tmp_path):
    write(tmp_path / "src" / "train.py", TYPO)
    write(tmp_path / "src" / "bad.py", "from peft import LoraConfig\nLoraConfig(\n")
    return tmp_path


def out(project, fmt):
    proc = run_cli("check", ".", "--output-format", fmt, "--no-cache", cwd=project)
    assert proc.returncode == 1, proc.stderr
    return proc.stdout


def test_github_annotations(project):
    lines = out(project, "github").splitlines()
    assert lines[0].startswith("::notice file=src/bad.py,line=2,col=11,")
    error = next(line for line in lines if "LL101" in line)
    assert error.startswith(
        "::error file=src/train.py,line=4,col=57,endLine=4,endColumn=67,"
        "title=LL101 unknown-target-module::"
    )
    assert '"dwn_proj" matches no module' in error
    assert any(line.startswith("::warning ") and "LL201" in line for line in lines)


def test_github_escapes_newlines_and_properties():
    from lorlint.checks import Diagnostic
    from lorlint.report.formats import github
    from lorlint.site import Span

    d = Diagnostic(
        "LL101", "unknown-target-module", "error", "a\nb %", "a,b:c.py", Span(1, 1, 1, 2)
    )
    assert github([d]) == (
        "::error file=a%2Cb%3Ac.py,line=1,col=1,endLine=1,endColumn=2,"
        "title=LL101 unknown-target-module::a%0Ab %25"
    )


def test_sarif_is_valid_sarif_2_1_0(project):
    log = json.loads(out(project, "sarif"))
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "lorlint" and driver["version"] and driver["informationUri"]
    assert {r["id"] for r in driver["rules"]} >= {"LL101", "LL201", "LL900", "LL901"}
    rule = next(r for r in driver["rules"] if r["id"] == "LL101")
    assert rule["fullDescription"]["text"].startswith("Checks every entry")
    assert rule["defaultConfiguration"]["level"] == "error"
    result = next(r for r in run["results"] if r["ruleId"] == "LL101")
    assert driver["rules"][result["ruleIndex"]]["id"] == "LL101"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/train.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 57, "endLine": 4, "endColumn": 67}
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}


def test_sarif_with_no_findings_is_valid(tmp_path):
    write(tmp_path / "t.py", "import peft\n")
    proc = run_cli("check", ".", "--output-format", "sarif", "--no-cache", cwd=tmp_path)
    log = json.loads(proc.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    assert log["runs"][0]["results"] == []


def test_gitlab_code_quality(project):
    items = json.loads(out(project, "gitlab"))
    item = next(i for i in items if i["check_name"] == "LL101")
    assert item["severity"] == "major" and item["location"] == {
        "path": "src/train.py",
        "lines": {"begin": 4, "end": 4},
    }
    assert len({i["fingerprint"] for i in items}) == len(items)


def test_junit(project):
    root = ET.fromstring(out(project, "junit"))
    assert root.tag == "testsuites" and int(root.get("failures")) >= 3
    case = root.find(".//testcase[@name='org.lorlint.LL101']")
    assert case.get("line") == "4" and case.find("failure") is not None


def test_statistics_goes_to_stderr_for_machine_formats(project):
    proc = run_cli(
        "check", ".", "--output-format", "json", "--statistics", "--no-cache", cwd=project
    )
    json.loads(proc.stdout)
    assert "LL101" in proc.stderr
