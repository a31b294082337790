"""One docstring markup style across the package: Markdown-style single backticks.

reST markup (``double backticks``, roles such as :class:`X`, a paragraph ending in `::`) in a
docstring or a comment of `wacht_mock/` fails here, with the file and line of each.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import wacht_mock

PACKAGE = Path(wacht_mock.__file__).parent

#: reST markup, each with what to write instead.
REST = {
    "a reST role (write `name`)": re.compile(r":[a-z]+(?::[a-z]+)?:`"),
    "a reST literal (write `text`)": re.compile(r"(?<!`)``(?!`)[^`]+?(?<!`)``(?!`)", re.DOTALL),
    "a reST literal block marker (end the line with one colon)": re.compile(
        r"[^\s:]::[ \t]*$", re.MULTILINE
    ),
}


def texts(source: str) -> list[tuple[int, str]]:
    """Every docstring (any string statement) and comment of a module, with its first line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.append((node.lineno, node.value.value))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found.append((token.start[0], token.string))
    return found


def rest_markup(source: str, name: str = "<source>") -> list[str]:
    """`file:line: what was found` for each piece of reST markup in the docstrings and comments."""
    problems = []
    for line, text in texts(source):
        for what, pattern in REST.items():
            for match in pattern.finditer(text):
                at = line + text.count("\n", 0, match.start())
                problems.append(f"{name}:{at}: {what}: {match.group(0)!r}")
    return problems


def test_the_package_docstrings_and_comments_use_markdown_backticks_only() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 50
    problems = [
        problem
        for path in modules
        for problem in rest_markup(path.read_text("utf-8"), str(path.relative_to(PACKAGE)))
    ]
    assert problems == []


def test_the_check_finds_each_kind_of_rest_markup_and_nothing_else() -> None:
    source = '''"""Module: ``literal`` and :class:`~a.Thing`::

    block
"""
MESSAGE = "an error message may say ``this`` and :class:`that`::"
# a comment with :func:`f`
def f() -> None:
    """`Markdown`, ```fenced```, a ratio 1:2 and an address ::1 are fine."""
'''
    found = rest_markup(source)
    assert [problem.split(": ")[1] for problem in found] == [
        "a reST role (write `name`)",
        "a reST literal (write `text`)",
        "a reST literal block marker (end the line with one colon)",
        "a reST role (write `name`)",
    ]
    assert [problem.split(":")[1] for problem in found] == ["1", "1", "1", "6"]
