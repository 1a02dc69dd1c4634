"""The documents say what the code does.

- every Python example in README.md and docs/*.md, and in the API docstrings, runs as
  written;
- the complete example of docs/format.md solves with the command line and passes the
  independent check;
- the CLI reference in docs/cli.md is the one the parser renders, and every `--flag` the
  documents show after `optimizer SUBCOMMAND` is a flag that subcommand accepts (with a
  value it accepts, where the flag has choices);
- every relative link between the documents points at a file that exists.
"""

from __future__ import annotations

import argparse
import doctest
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
#: Every document a user reads, by its path relative to the repository.
DOCUMENTS = [ROOT / "README.md", *DOCS]

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", flags=re.S | re.M)


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _fences(path: Path) -> list[tuple[str, str]]:
    """(info string, body) of every fenced code block of a document."""
    text = path.read_text(encoding="utf-8")
    return [(m.group(1).strip(), m.group(2)) for m in _FENCE.finditer(text)]


def _python_blocks() -> list[tuple[str, int, str]]:
    out = []
    for path in DOCUMENTS:
        blocks = [body for info, body in _fences(path) if info.split(" ")[0] == "python"]
        out += [(_name(path), i, body) for i, body in enumerate(blocks)]
    return out


PYTHON = _python_blocks()


def test_readme_has_examples():
    assert any(name == "README.md" for name, _, _ in PYTHON)


@pytest.mark.solver
@pytest.mark.parametrize("name,index,code", PYTHON,
                         ids=[f"{name}[{i}]" for name, i, _ in PYTHON])
def test_python_example_runs(name, index, code, monkeypatch, tmp_path):
    # from an empty folder, as after `pip install .` anywhere: the examples reach the
    # shipped programs by name (load("pilot")), never through the checkout's files
    monkeypatch.chdir(tmp_path)
    assert list(tmp_path.iterdir()) == []
    exec(compile(code, f"{name}[python {index}]", "exec"), {"__name__": "__docs__"})


@pytest.mark.solver
@pytest.mark.parametrize("module", ["optimizer.pipeline", "optimizer.whatif.scenarios",
                                    "optimizer.whatif.sweeps"])
def test_api_docstrings(monkeypatch, module):
    import importlib

    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testmod(importlib.import_module(module),
                                      optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


@pytest.mark.solver
def test_pilot_program_solves_and_checks():
    """The main job of the quick start: the pilot program, solved and checked."""
    from helpers import solve_checked

    from optimizer import SolveOptions

    result = solve_checked(ROOT / "instances" / "pilot" / "program.yaml",
                           SolveOptions(threads=1, gap=0.0, time_limit=120))
    assert result.status == "optimal" and result.termination == "optimal"
    assert result.check.total_capital <= 550 + 1e-6
    assert os.path.exists(ROOT / "instances" / "pilot" / "SOURCES.md")


# ------------------------------------------------------------- the format's example
def _format_example() -> str:
    blocks = [body for info, body in _fences(ROOT / "docs" / "format.md")
              if info.startswith("yaml") and 'title="example.yaml"' in info]
    assert len(blocks) == 1, "docs/format.md holds one ```yaml title=\"example.yaml\" block"
    return blocks[0]


@pytest.mark.solver
def test_format_example_solves_and_checks(tmp_path):
    """The complete example of docs/format.md, written to a file and solved by the
    command line as a user would: exit 0, one JSON object, the check passes, and the
    plan is the one the text works out by hand."""
    path = tmp_path / "example.yaml"
    path.write_text(_format_example(), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "optimizer", "solve", path.name, "--json",
                           "--threads", "1"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["check"]["valid"] is True and result["check"]["violations"] == []
    assert result["status"] == "optimal"
    assert result["objective"] == pytest.approx(2.87)
    assert {p["id"]: p["units"] for p in result["selected"]} == {"E1": 1, "E2": 1, "S1": 1,
                                                                 "S2": 1}
    assert result["capital"]["total"] == pytest.approx(28.0)
    assert result["binding"] == ["budget.per_year[2027]"]


def test_format_has_the_field_tables_markers():
    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN generated: fields -->", "<!-- END generated: fields -->"
    assert text.count(begin) == 1 and text.count(end) == 1
    assert text.index(begin) < text.index(end)


# ------------------------------------------------------------------ CLI reference
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?")


def _shape(line: str) -> str:
    """A line with its numbers as ``#`` and its runs of spaces as one."""
    return " ".join(_NUMBER.sub("#", line).split())


@pytest.mark.solver
def test_cli_sample_output_is_what_solve_prints():
    """The pilot's summary shown in docs/cli.md has the form of what the command prints
    today: the same header lines (numbers aside), the same sections in the same order,
    and the objective, bound and committed capital within a tolerance (the plan itself
    may differ between solver versions among plans of equal return)."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    command = "optimizer solve pilot --threads 1"
    shown = re.search(rf"`{re.escape(command)}` prints[^`]*```\n(.*?)^```", text,
                      flags=re.S | re.M)
    assert shown is not None, f"docs/cli.md no longer shows `{command}`"
    done = subprocess.run([sys.executable, "-m", "optimizer", *command.split()[1:]],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    doc, now = shown.group(1).strip().splitlines(), done.stdout.strip().splitlines()
    stale = f"docs/cli.md's sample output is stale: paste the output of `{command}`"
    assert [_shape(line) for line in doc[:4]] == [_shape(line) for line in now[:4]], stale

    def sections(lines: list[str]) -> list[str]:
        return [_shape(line) for line in lines if line.rstrip().endswith(":")]

    assert sections(doc) == sections(now), stale

    def figures(lines: list[str], start: str) -> list[float]:
        line = next(line for line in lines if line.startswith(start))
        return [float(n.rstrip("%").replace(",", "")) for n in _NUMBER.findall(line)]

    for start in ("objective", "capital committed"):
        assert figures(doc, start) == pytest.approx(figures(now, start), rel=1e-3,
                                                    abs=1e-2), stale


def test_cli_reference_is_generated_from_the_parser():
    from optimizer.cli.clidoc import generated_block, render

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert generated_block(text) == render(), (
        "docs/cli.md is stale: run python -m optimizer.cli.clidoc --write docs/cli.md")


def test_clidoc_check_and_write(tmp_path):
    from optimizer.cli.clidoc import BEGIN, END, main, render

    path = tmp_path / "cli.md"
    path.write_text(f"# head\n\n{BEGIN}\nold\n{END}\n\ntail\n", encoding="utf-8")
    assert main(["--check", str(path)]) == 1
    assert main(["--write", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == f"# head\n\n{BEGIN}\n{render()}{END}\n\ntail\n"
    assert main(["--check", str(path)]) == 0
    path.write_text("no markers\n", encoding="utf-8")
    assert main(["--write", str(path)]) == 2
    assert path.read_text(encoding="utf-8") == "no markers\n"


def _parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    from optimizer.cli.clidoc import subcommands
    from optimizer.cli.main import parser

    top = parser()
    return top, {name: sub for name, (_, sub) in subcommands(top).items()}


def _flags(p: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {s: a for a in p._actions for s in a.option_strings}


#: `optimizer` as a command word (not `optimizer.cli.clidoc`, `optimizer/cli/main.py`, `optimizer:`)
_COMMAND = re.compile(r"(?<![\w./-])optimizer[ \t]+(?=[\w-])")
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _commands(text: str) -> list[tuple[str, str]]:
    """(subcommand or '', the rest of its command) for every `optimizer ...` command in a
    line of code; the rest ends at the next command, a shell separator or a comment."""
    out = []
    starts = [m.end() for m in _COMMAND.finditer(text)]
    for k, start in enumerate(starts):
        rest = text[start:starts[k + 1] if k + 1 < len(starts) else len(text)]
        rest = re.split(r"&&|;|\s#\s|\s#$", rest)[0].rstrip()
        word = rest.split()[0] if rest.split() else ""
        if word.startswith("-"):
            out.append(("", rest))
        else:
            out.append((word, rest[len(word):] if rest.startswith(word) else rest))
    return out


def _code_lines(path: Path) -> list[str]:
    """Every line of code of a document, continuation lines joined to their command:
    the lines of fenced blocks and every inline code span."""
    text = path.read_text(encoding="utf-8")
    lines: list[str] = []
    for info, body in _fences(path):
        if info.split(" ")[0] == "python":  # Python, not commands
            continue
        for line in body.splitlines():
            if lines and lines[-1].endswith("\\"):
                lines[-1] = lines[-1][:-1] + " " + line.strip()
            elif lines and re.match(r"\s+[\[-]", line) and _COMMAND.search(lines[-1]):
                lines[-1] += " " + line.strip()  # a synopsis wrapped over lines
            else:
                lines.append(line)
    prose = _FENCE.sub("", text)
    prose = re.sub(r"<!--.*?-->", "", prose, flags=re.S)
    lines += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)
              if "\n\n" not in span]
    return lines


def _values(token: str) -> list[str]:
    """The literal values a documented flag is shown with: `on`, or each of `on|off`;
    none for a placeholder (`S`, `FILE.json`, `START:STOP:STEP`, `...`)."""
    token = token.strip("[]{}(),")
    values = [v for v in re.split(r"[|,]", token) if v]
    if not values or any(not re.fullmatch(r"[a-z0-9][a-z0-9+._-]*", v) for v in values):
        return []
    return values


def _problems(where: str, p: argparse.ArgumentParser, rest: str) -> list[str]:
    flags = _flags(p)
    out = []
    tokens = rest.split()
    for k, token in enumerate(tokens):
        for flag in _FLAG.findall(token.split("=")[0]):
            action = flags.get(flag)
            if action is None:
                out.append(f"{where}: `{p.prog}` has no flag {flag}")
                continue
            if action.choices is None or action.nargs == 0:
                continue
            value = token.split("=", 1)[1] if "=" in token else (
                tokens[k + 1] if k + 1 < len(tokens) else "")
            for v in _values(value):
                if v not in action.choices:
                    out.append(f"{where}: `{p.prog} {flag}` does not accept {v!r} "
                               f"(choices: {', '.join(map(str, action.choices))})")
    return out


def test_every_documented_flag_exists():
    """A flag shown after `optimizer SUBCOMMAND` in README.md or docs/*.md (in a code
    block or a code span) is one that subcommand accepts, with an accepted value where
    the flag has choices; a code span that is only a flag names a flag some command has."""
    top, subs = _parsers()
    every = set(_flags(top)).union(*(_flags(s) for s in subs.values()))
    problems: list[str] = []
    checked = 0
    for path in DOCUMENTS:
        for line in _code_lines(path):
            where = f"{_name(path)}: {line.strip()[:70]!r}"
            found = _commands(line)
            for word, rest in found:
                if word == "":
                    problems += _problems(where, top, rest)
                elif word in subs:
                    problems += _problems(where, subs[word], rest)
                elif re.fullmatch(r"[a-z][a-z-]*", word) and word not in (
                        "is", "and", "or", "the", "a", "import"):
                    problems.append(f"{where}: `optimizer {word}` is not a command")
                checked += 1
            if not found:
                only = re.fullmatch(r"(--[a-z][a-z0-9-]*)(?:[ =](\S+))?", line.strip())
                if only and only.group(1) not in every:
                    problems.append(f"{where}: no command has the flag {only.group(1)}")
    assert checked > 20
    assert not problems, "\n".join(problems)


def test_flag_check_catches_a_refused_flag():
    _, subs = _parsers()
    assert _problems("x", subs["solve"], " PATH [--local-search auto|on|off]")
    assert _problems("x", subs["solve"], " PATH --no-such-flag")
    assert not _problems("x", subs["solve"], " PATH [--local-search on|off] [--json]")
    assert _commands("pip install . && optimizer solve x.yaml --json  # a comment --x") == [
        ("solve", " x.yaml --json")]


# ------------------------------------------------------------------------- links
@pytest.mark.parametrize("path", DOCUMENTS, ids=[_name(p) for p in DOCUMENTS])
def test_relative_links_resolve(path):
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    missing = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file = target.split("#")[0]
        if not (path.parent / file).exists():
            missing.append(target)
    assert not missing, f"{_name(path)} links to missing files: {missing}"


def test_docs_index_lists_every_document():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in DOCS:
        if doc.name != "index.md":
            assert f"({doc.name})" in index, f"docs/index.md does not link {doc.name}"
            assert f"(docs/{doc.name})" in readme, f"README.md does not link {doc.name}"


# ------------------------------------------------------------ pointers in help and docs
def test_debug_is_shown_in_every_commands_help(capsys):
    from optimizer.cli.main import parser

    sub = next(a for a in parser()._actions if a.dest == "command")
    for name, command in sub.choices.items():
        text = command.format_help()
        assert "--debug" in text and "on an internal error, print the traceback" in text, name


def test_help_and_docs_point_where_the_text_is():
    from optimizer.cli.main import parser

    solve = next(a for a in parser()._actions if a.dest == "command").choices["solve"]
    heuristic = next(a for a in solve._actions if a.dest == "heuristic").help
    assert "README" not in heuristic and "docs/peers.md" in heuristic
    assert "--heuristic core" in (ROOT / "docs" / "peers.md").read_text(encoding="utf-8")
    model = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    assert "section 4" not in model and "format.md#the-rules-in-words" in model
    assert "## The rules in words" in (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
