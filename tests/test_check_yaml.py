"""Issue 13: files are read by libyaml where that gives exactly what ruamel.yaml gives.

``source.parse_text`` reads a plain file with libyaml (``yamlread.parse_c``) and
everything else with ruamel.yaml's round-trip loader (YAML 1.2). Here both readers read
every YAML and JSON file of the repository and a list of awkward inputs: where the fast
reader answers, its data and its line map must be ruamel's; where ruamel refuses a file,
the fast reader must not answer (so the message stays ruamel's, with file:line:col).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meldroute.engine import source, yamlread
from meldroute.engine.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for folder in ("rules", "schools", "tests") for p in (ROOT / folder).rglob("*")
               if p.suffix in (".yaml", ".yml", ".json"))
SHIPPED = [p for p in FILES if p.parts[len(ROOT.parts)] in ("rules", "schools")]

AWKWARD = [
    # YAML 1.2 as ruamel reads it: these are text, not booleans
    "a: no\nb: on\nc: yes\nd: off\ne: y\nf: n\n",
    "a: true\nb: False\nc: TRUE\nd: ~\ne: null\nf: Null\n",
    "a: 1\nb: -3\nc: +4\nd: 0\ne: -0\n",
    # numbers ruamel keeps in types of its own, dates with a time, impossible dates
    "a: 012\nb: 0x1F\nc: 0o17\nd: 1_000\ne: 1.5\nf: 1e3\ng: .inf\nh: 08\n",
    "a: 2026-01-05\nb: 2026-1-5\nc: 2026-01-05T10:00:00\n", "a: 2026-02-30\n",
    "a: 1:30\nb: 0.\nc: -.5\n",
    # empty values (ruamel places them elsewhere than libyaml)
    "a:\nb: x\n", "a: {b: }\n", "- \n- x\n",
    # quoting, block scalars, folding, comments
    "a: 'it''s'\nb: \"x\\ty\"\nc: \"plain\"\nd: \"\\u00e9\"\n",
    "d: |\n  line1\n  line2\n\ne: >\n  folded\n  text\n\nf: |-\n  keep\ng: |+\n  keep\n\n",
    "a: multi\n  line\n  plain\nb: 'multi\n  quoted'\nc: \"line\n  folded\"\n",
    "x: |2\n   indented\ny: >-\n  a\n\n  b\n", "a: b # comment\nc: '#not'\nd: x#y\n",
    # structure
    "- a\n- b: 1\n  c: 2\n-\n  - x\n  - y\n- [1, 2, {a: b}]\n", "a:\n- x\n- y\nb:\n  - z\n",
    "{a: 1, b: [x, y]}", '{"a": 1, "b": [true, null, "x"]}', "- - - x\n", "a: [a:b]\n",
    "a: {b}\n", "? a\n: b\n", "'1': a\n\"true\": b\n", "", "# only a comment\n", "scalar\n",
    "a: b\n...\n", "--- \na: b\n",
    # keys: duplicates (ruamel refuses), keys that are not text
    "a: 1\na: 2\n", "'a': 1\na: 2\n", "1: a\n", "true: a\n", "null: a\n", "2026-01-05: a\n",
    "? [a, b]\n: c\n", "[a, b]: c\n",
    # anchors, aliases, merge keys, tags, directives
    "a: &x 1\nb: *x\n", "a: &x [1, 2]\nb: *x\n", "<<: {a: 1}\nb: 2\n", "a: !!str 3\n",
    "a: !x b\n", "a: !!binary aGk=\n", "%YAML 1.2\n---\na: 1\n", "a: =\n", "a: <<\n",
    # tabs (ruamel is stricter than libyaml), characters, line ends
    "a:\tb\n", "a: b\t\n", "a:\n\t- b\n", "\ta: b\n", "a: 'é'\nb: é ü\nc: [é, x]\n",
    "a: \U0001F600\nb: \u00e9\u200b\n", "a: \x07\n", "\ufeffa: x\n", "a: x\u2028y\n",
    "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",
    # broken
    "a: [\n", "a: b: c\n", "--- a\n--- b\n", "key with spaces: value with: colon\n",
    "a: - b\n", "a: @x\n", "a: |\n  x\n b: c\n", "a: b\n  c: d\n",
]


def _fast(text: str) -> tuple[Any, yamlread.LineMap | None] | None:
    return yamlread.parse_c(text, source.MAX_DEPTH, max(source.MIN_NODE_BUDGET, len(text)))


def _ruamel(text: str) -> tuple[Any, yamlread.LineMap | None]:
    tree = source._ruamel_tree(text, "x.yaml")
    return (source._plain(tree, "x.yaml", max(source.MIN_NODE_BUDGET, len(text))),
            yamlread.from_ruamel(tree))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_of_the_repository_reads_the_same_with_both_readers(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = _fast(text)
    if path in SHIPPED:
        assert fast is not None, "a shipped file must not need the slow reader"
    if fast is not None:
        assert fast == _ruamel(text)


@pytest.mark.parametrize("text", AWKWARD)
def test_the_fast_reader_answers_only_where_it_reads_as_ruamel_does(text: str) -> None:
    fast = _fast(text)
    try:
        slow = _ruamel(text)
    except ConfigError:
        assert fast is None, "ruamel refuses this file: its message must be given"
        return
    assert fast is None or fast == slow


def test_positions_of_keys_values_and_items():
    doc = source.parse_text("a: 1\nb:\n  - x\n  - {c: d}\n", "p.yaml")
    assert doc.locate(()) == (1, 1)
    assert doc.locate(("b",), key=True) == (2, 1)
    assert doc.locate(("b",)) == (3, 3)
    assert doc.locate(("b", 1, "c")) == (4, 9)
    assert doc.locate(("b", 1, "c"), key=True) == (4, 6)
    # as far down as the file goes: a missing key or item, a path into a scalar
    assert doc.locate(("b", 5)) == (3, 3)
    assert doc.locate(("a", "x")) == (1, 4)
    assert doc.locate(("zz",)) == (1, 1)


def test_a_file_the_fast_reader_leaves_keeps_ruamels_message():
    with pytest.raises(ConfigError) as err:
        source.parse_text("id: x\nid: y\n", "dubbel.yaml")
    (problem,) = err.value.problems
    assert (problem.line, problem.check) == (2, "syntax")
    assert "duplicate key" in problem.message
