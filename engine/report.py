"""Printing a check report: text, json, junit (XML) or GitHub annotations."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

if TYPE_CHECKING:
    from .checkreport import CheckReport

FORMATS = ("text", "json", "junit", "github")


def _summary(report: CheckReport) -> list[str]:
    lines = [f"{len(report.files)} bestand(en) gecontroleerd, "
             f"{report.combinations} antwoordcombinaties doorgerekend, "
             f"{report.scenarios} scenario's uitgevoerd."]
    for cov in report.coverage:
        total = len(cov.covered) + len(cov.uncovered)
        lines.append(f"Dekking {cov.protocol}: {cov.percent:.0f}% van de vraag/antwoord-paren "
                     f"({len(cov.covered)}/{total}).")
    errors = len(report.errors)
    lines.append("OK." if report.ok else f"{errors} fout(en).")
    return lines


def as_text(report: CheckReport) -> str:
    lines = []
    for p in report.problems:
        lines.append(str(p) if p.severity == "error"
                     else f"{p.path}:{p.line}:{p.col}: waarschuwing: {p.message}")
    return "\n".join([*lines, *_summary(report)])


def as_json(report: CheckReport) -> str:
    return json.dumps({
        "ok": report.ok,
        "files": report.files,
        "combinations": report.combinations,
        "scenarios": report.scenarios,
        "coverage": [{"protocol": c.protocol, "percent": round(c.percent, 1),
                      "uncovered": [{"question": q, "answer": a} for q, a in c.uncovered]}
                     for c in report.coverage],
        "problems": [{"file": p.path, "line": p.line, "column": p.col, "message": p.message,
                      "check": p.check, "severity": p.severity} for p in report.problems],
    }, ensure_ascii=False, indent=2)


def as_junit(report: CheckReport) -> str:
    suite = ET.Element("testsuite", name="meldroute check")
    failures = 0
    for path, check in report.ran:
        case = ET.SubElement(suite, "testcase", classname=path, name=check)
        errors = [p for p in report.errors if p.path == path and (
            p.check == check or (check == "schema" and p.check in ("references", "syntax")))]
        if errors:
            failures += 1
            failure = ET.SubElement(case, "failure", message=errors[0].message)
            failure.text = "\n".join(str(p) for p in errors)
    reported = {(p, c) for p, c in report.ran}
    for p in report.errors:  # a problem in a file that no check above names
        if not any(p.path == path for path, _ in reported):
            case = ET.SubElement(suite, "testcase", classname=p.path, name=p.check)
            ET.SubElement(case, "failure", message=p.message).text = str(p)
            failures += 1
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def as_github(report: CheckReport) -> str:
    lines = []
    for p in report.problems:
        level = "error" if p.severity == "error" else "warning"
        lines.append(f"::{level} file={_escape(p.path, True)},line={p.line},col={p.col},"
                     f"title={_escape('meldroute check: ' + p.check, True)}::{_escape(p.message)}")
    lines += _summary(report)
    return "\n".join(lines)


RENDERERS = {"text": as_text, "json": as_json, "junit": as_junit, "github": as_github}
