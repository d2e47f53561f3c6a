"""CI formats: GitHub annotations, SARIF 2.1.0 (validated against the official schema), GitLab, JUnit."""

from __future__ import annotations

import json
import os
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


def test_sarif_rules_carry_their_page_as_help(project):
    from lorlint.checks import load_all

    driver = json.loads(out(project, "sarif"))["runs"][0]["tool"]["driver"]
    assert {r["id"] for r in driver["rules"]} == set(load_all())
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["markdown"].startswith(f"# {rule['id']} {rule['name']}\n")
        assert "## Why is this bad?" in rule["help"]["markdown"]
        assert "Why is this bad?" in rule["help"]["text"] and "```" not in rule["help"]["text"]
        assert rule["helpUri"].endswith(f"rules/{rule['id']}-{rule['name']}.md")
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}


def github_sarif_problems(log: dict) -> list[str]:
    """GitHub code scanning's upload checks, as the SARIF multitool's GitHub rules state them
    (GH1001-GH1007, GH1013-GH1018, GH2012 and GH1004's default display limits)."""
    from urllib.parse import urlparse

    problems = []
    if log.get("version") != "2.1.0" or not log.get("runs"):
        problems.append("GH1013: version 2.1.0 and runs are required")
    if len(log.get("runs", [])) > 5:
        problems.append("GH1004: more than 5 runs")
    for run in log.get("runs", []):
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            problems.append("GH1018: tool.driver.name is required")
        rules = driver.get("rules", [])
        if len(rules) > 1000 or len(run.get("results", [])) > 1000:
            problems.append("GH1004: more than 1000 rules or results")
        for rule in rules:
            if not rule.get("id"):
                problems.append("GH2012: every rule needs an id")
            for key in ("shortDescription", "fullDescription"):
                if len(rule.get(key, {}).get("text", "")) > 1024:
                    problems.append(f"{rule.get('id')}: {key} longer than 1024 characters")
            if len(rule.get("properties", {}).get("tags", [])) > 20:
                problems.append(f"{rule.get('id')}: more than 20 tags")
        ids = [r.get("id") for r in rules]
        for result in run.get("results", []):
            if not result.get("ruleId") or "message" not in result:
                problems.append("GH1015: ruleId and message are required")
            if "ruleIndex" in result and ids[result["ruleIndex"]] != result["ruleId"]:
                problems.append("ruleIndex does not point at the rule")
            message = result.get("message", {})
            if not message.get("text") or "id" in message or "arguments" in message:
                problems.append("GH1007: message must be a fully formatted text")
            locations = result.get("locations", [])
            if not locations or len(locations) > 10:
                problems.append("GH1001/GH1004: 1 to 10 locations")
            for location in locations:
                physical = location.get("physicalLocation", {})
                uri = physical.get("artifactLocation", {}).get("uri")
                if not uri:
                    problems.append("GH1001/GH1017: physicalLocation.artifactLocation.uri")
                    continue
                scheme = urlparse(uri).scheme
                if scheme and scheme != "file":
                    problems.append(f"GH1005: {uri} is not a file path")
                if scheme == "file":
                    problems.append(f"GH1006: absolute file URI {uri} needs a checkout path")
                if physical.get("region", {}).get("startLine", 0) < 1:
                    problems.append("GH1003: region.startLine is required")
    return problems


def test_sarif_passes_githubs_upload_checks(project):
    assert github_sarif_problems(json.loads(out(project, "sarif"))) == []
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": []}},
            "results": [{"ruleId": "X", "message": {"id": "m"}, "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": "file:///abs/x.py"}}}]}]}]}  # fmt: skip
    assert len(github_sarif_problems(bad)) == 3  # the check itself can fail


def test_gitlab_fingerprints_survive_lines_inserted_above(tmp_path):
    body = TYPO.replace('"v_proj", "dwn_proj"', '"dwn_proj", "v_proj", "dwn_proj"')
    write(tmp_path / "train.py", body)

    def fingerprints():
        proc = run_cli("check", ".", "--output-format", "gitlab", "--no-cache", cwd=tmp_path)
        return {(i["check_name"], i["location"]["lines"]["begin"], i["fingerprint"])
                for i in json.loads(proc.stdout)}  # fmt: skip

    before = fingerprints()
    ll101 = [f for code, _, f in before if code == "LL101"]
    assert len(ll101) == 2 and len(set(ll101)) == 2  # equal findings: told apart by their index
    write(tmp_path / "train.py", "import os\n\n# a comment\n" + body)
    after = fingerprints()
    assert {f for _, _, f in after} == {f for _, _, f in before}
    assert {row for _, row, _ in after} == {row + 3 for _, row, _ in before}
    write(tmp_path / "train.py", body.replace("dwn_proj", "dwn_prj"))
    assert not {f for _, _, f in fingerprints()} & set(ll101)  # another offending text


MULTITOOL = "@microsoft/sarif-multitool-linux@5.7.0"


@pytest.fixture(scope="module")
def multitool(tmp_path_factory):
    """Microsoft's SARIF multitool (a self-contained .NET build published on npm)."""
    import shutil
    import subprocess
    import sys

    npm = shutil.which("npm")
    if npm is None or not sys.platform.startswith("linux"):
        pytest.skip("needs npm on Linux to install the SARIF multitool")
    prefix = tmp_path_factory.mktemp("multitool")
    proc = subprocess.run(
        [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), MULTITOOL],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (binary,) = prefix.rglob("sarif-multitool-linux/Sarif.Multitool")
    return binary


def _multitool_findings(binary, log: dict, tmp_path, kind: str) -> list[str]:
    import subprocess
    import uuid

    name = uuid.uuid4().hex  # the tool does not overwrite an existing report
    source, report = tmp_path / f"{name}.sarif", tmp_path / f"{name}.out.sarif"
    source.write_text(json.dumps(log))
    proc = subprocess.run(
        [str(binary), "validate", str(source), "--rule-kind", kind, "--output", str(report)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )  # fmt: skip
    assert report.is_file(), proc.stdout + proc.stderr
    results = json.loads(report.read_text())["runs"][0]["results"]
    return [f"{r['ruleId']}: {r['message'].get('arguments')}" for r in results]


@pytest.mark.parametrize("kind", ["Ghas", "Sarif"])
def test_sarif_multitool_finds_nothing(project, multitool, tmp_path, kind):
    log = json.loads(out(project, "sarif"))
    assert _multitool_findings(multitool, log, tmp_path, kind) == []
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["message"] = {"id": "m"}  # the tool can fail
    assert _multitool_findings(multitool, broken, tmp_path, kind)
