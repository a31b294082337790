"""What a contract check found, read from schemathesis' engine events, and how it is shown.

`CheckReport` collects operations, cases and failures (each with the failing request as a
curl line); `CheckReport.summary` is the short text `wacht-mock check` prints and
`write_junit` the JUnit XML a CI server reads.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # schemathesis is the check extra's: imported when events are read
    from schemathesis.core.failures import Failure
    from schemathesis.engine import events

from wacht_mock.contract.drift import fold_indexes
from wacht_mock.core.masking import mask_text

STATEFUL_LABEL = "Stateful tests"
PHASES = ("examples", "coverage", "fuzzing", "stateful")
SHOWN_PER_KIND = 3
MESSAGE_LINES = 4


@dataclass(frozen=True)
class Finding:
    """One distinct failure: its kind (`ST108 Response violates schema`), where, and a repro."""

    code: str
    title: str
    operation: str
    message: str
    curl: str
    status: int | None = None

    def __post_init__(self) -> None:  # a repro line may carry the key it ran with
        object.__setattr__(self, "message", mask_text(self.message))
        object.__setattr__(self, "curl", mask_text(self.curl))

    @property
    def kind(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What makes two failures the same: kind, operation, first line (array indexes folded)."""
        first = fold_indexes(self.message.strip().split("\n", 1)[0])
        return self.code, self.title, self.operation, first


@dataclass
class CheckReport:
    """The outcome of one run; `ok` when nothing failed and nothing went wrong."""

    base_url: str
    operations: list[str]
    seed: int | None = None
    cases: int = 0
    findings: list[Finding] = field(default_factory=list)
    occurrences: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    error_places: dict[str, list[str]] = field(default_factory=dict)
    phases: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    stop_reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings and not self.errors

    @property
    def kinds(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.kind, []).append(finding)
        return grouped

    # -- reading events -------------------------------------------------------------------------

    def record(self, event: events.EngineEvent) -> None:
        from schemathesis.engine import Status, events

        if isinstance(event, events.ScenarioFinished) and event.status != Status.SKIP:
            self._scenario(event)
        elif isinstance(event, events.PhaseFinished) and event.phase.is_enabled:
            self.phases[event.phase.name.value] = event.status.value
        elif isinstance(event, events.NonFatalError):
            self.error(f"{event.info.title}: {_first(event.info.message)}", event.label)
        elif isinstance(event, events.FatalError):
            self.error(f"the run stopped: {event.exception}")
        elif isinstance(event, events.EngineFinished):
            self.elapsed = event.running_time
            self.stop_reason = event.stop_reason.value
            for failure in event.failures:
                self._add(
                    Finding(failure.code, failure.title, "the whole run", failure.message, "")
                )

    def error(self, message: str, where: str = "") -> None:
        """An error that kept the check from testing something (each distinct one listed once)."""
        if message not in self.error_places:
            self.errors.append(message)
            self.error_places[message] = []
        self.error_places[message].append(where)

    def _scenario(self, event: events.ScenarioFinished) -> None:
        from schemathesis.engine import Status

        recorder = event.recorder
        self.cases += len(recorder.cases)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                info = check.failure_info
                if check.status != Status.FAILURE or info is None:
                    continue
                failure = info.failure
                operation = failure.operation or event.label or STATEFUL_LABEL
                case = recorder.cases.get(case_id)
                if case is not None and failure.operation is None:
                    operation = case.value.operation.label
                curl = "\n".join(step.curl for step in info.steps) or info.code_sample
                response = recorder.find_response(case_id=failure.case_id or case_id)
                status = response.status_code if response is not None else None
                message = describe(failure)
                finding = Finding(failure.code, failure.title, operation, message, curl, status)
                self._add(finding)

    def _add(self, finding: Finding) -> None:
        if finding.key not in self.occurrences:
            self.findings.append(finding)
        self.occurrences[finding.key] += 1

    # -- showing it -----------------------------------------------------------------------------

    def summary(self) -> str:
        """The short, readable text: operations, cases, failures by kind with a curl line each."""
        seed = f", seed {self.seed}" if self.seed is not None else ""
        phases = [(name, status) for name, status in self.phases.items() if name in PHASES]
        lines = [f"wacht-mock check: {self.base_url}{seed}"]
        if phases:
            lines.append("Phases: " + ", ".join(f"{name} {status}" for name, status in phases))
        lines.append(
            f"{len(self.operations)} operations, {self.cases} cases in {self.elapsed:.1f} s"
        )
        for kind, findings in self.kinds.items():
            total = sum(self.occurrences[finding.key] for finding in findings)
            lines += ["", f"{kind}: {len(findings)} distinct, {total} in all"]
            for finding in findings[:SHOWN_PER_KIND]:
                lines += _finding_lines(finding)
            if len(findings) > SHOWN_PER_KIND:
                lines.append(f"  ... and {len(findings) - SHOWN_PER_KIND} more of this kind")
        if self.errors:
            lines += ["", "Errors:", *(f"  {self._error_line(error)}" for error in self.errors)]
        lines += ["", self.verdict()]
        return "\n".join(lines)

    def _error_line(self, error: str) -> str:
        places = [place for place in self.error_places.get(error, []) if place]
        if not places:
            return error
        operations = len(set(places))
        return f"{error} ({_count(len(places), 'time')}, {_count(operations, 'operation')})"

    def verdict(self) -> str:
        if self.ok:
            return "OK: the server follows the contract (no failures)"
        kinds = len(self.kinds)
        problems = []
        if kinds:
            failures = _count(len(self.findings), "distinct failure")
            problems.append(f"{failures} of {_count(kinds, 'kind')}")
        if self.errors:
            problems.append(_count(len(self.errors), "error"))
        return "FAILED: " + " and ".join(problems)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def describe(failure: Failure) -> str:
    """A failure's message without the schema dump: `body /id: 5 is not of type "string"`."""
    path = getattr(failure, "instance_path", None)
    if path is not None:
        where = "/" + "/".join(map(str, path))
        return f"body {where}: {failure.validation_message}"  # type: ignore[attr-defined]
    return _first(failure.message, MESSAGE_LINES)


def _first(text: str, lines: int = 1) -> str:
    """The first lines of a message, up to (not including) a block it introduces with `:`."""
    kept: list[str] = []
    for line in text.strip().splitlines():
        if line.strip() and not line.startswith(" "):
            if line.rstrip().endswith(":") and kept:
                break
            kept.append(line.rstrip())
    return "\n".join(kept[:lines])


def _finding_lines(finding: Finding) -> list[str]:
    answered = f" -> {finding.status}" if finding.status is not None else ""
    lines = [f"  {finding.operation}{answered}"]
    lines += [f"    {line}" for line in _first(finding.message, MESSAGE_LINES).splitlines()]
    lines += [f"    {line}" for line in finding.curl.splitlines()]
    return lines


def write_junit(report: CheckReport, path: Path) -> None:
    """One `testcase` per operation (and one for stateful chains), failures as `failure`."""
    by_operation: dict[str, list[Finding]] = {name: [] for name in report.operations}
    for finding in report.findings:
        by_operation.setdefault(finding.operation, []).append(finding)
    suite = ET.Element("testsuite", _suite_attributes(report, by_operation))
    for operation, findings in by_operation.items():
        case = ET.SubElement(
            suite, "testcase", {"name": operation, "classname": "wacht-mock check"}
        )
        for finding in findings:
            failure = ET.SubElement(
                case, "failure", {"message": finding.kind, "type": finding.code}
            )
            failure.text = f"{finding.message}\n\n{finding.curl}".strip()
    for error in report.errors:
        case = ET.SubElement(suite, "testcase", {"name": "run", "classname": "wacht-mock check"})
        ET.SubElement(case, "error", {"message": error})
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _suite_attributes(report: CheckReport, by_operation: dict[str, Any]) -> dict[str, str]:
    failing = sum(1 for findings in by_operation.values() if findings)
    return {
        "name": "wacht-mock check",
        "tests": str(len(by_operation) + len(report.errors)),
        "failures": str(failing),
        "errors": str(len(report.errors)),
        "time": f"{report.elapsed:.3f}",
    }
