"""Runbooks (issue 13, "Knowing what to do"): the loader (the site's folder over the built-in ones, codes that are
server strings never reaching outside the folder, big files cut, unreadable ones explained, reads cached), the plain
reading of their Markdown, and a built-in runbook for every alert code the simulator can raise."""

from __future__ import annotations

import ast
import itertools
import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import console.demo.sim.catalog as catalog
from console.runbooks import (
    MAX_RUNBOOK_BYTES,
    RunbookLoader,
    builtin_codes,
    loader_for,
    parse_blocks,
    plain_lines,
    runbook_name,
)
from console.runbooks import loader as loader_module
from console.runbooks.blocks import inline

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "console" / "demo" / "sim"
BUILTIN = ROOT / "console" / "runbooks" / "builtin"


# --- every code the simulator raises has a built-in runbook -----------------------------------------------------------


def raised_codes() -> set[str]:
    """Every alert code the simulator can raise, read from its sources: the fault catalogue's specs (``FAULTS`` and
    the specs beside it, such as ``BED_NOT_CLEAR``) and the codes written out at each ``alerts.raise_(...)`` call.

    A call whose code is neither a string nor a spec's ``.code`` fails the test: it would be a code this test
    cannot see, so teach it the new form."""
    codes = {spec.code for spec in catalog.FAULTS}
    codes |= {value.code for value in vars(catalog).values() if isinstance(value, catalog.FaultSpec)}
    for path in sorted(SIM.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "raise_"):
                continue
            args = list(node.args) + [k.value for k in node.keywords if k.arg == "code"]
            code = args[3] if len(args) > 3 else args[-1]
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                codes.add(code.value)
            else:
                assert isinstance(code, ast.Attribute) and code.attr == "code", (
                    f"{path.name}:{node.lineno}: an alert code this test cannot read ({ast.unparse(code)})"
                )
    return codes


def test_the_simulator_raises_the_codes_this_test_expects_to_find() -> None:
    codes = raised_codes()
    assert {"nozzle_clog", "e_stop", "bed_not_clear", "node_offline", "job_failed"} <= codes
    assert len(codes) >= 13


def test_every_code_the_simulator_can_raise_has_a_built_in_runbook() -> None:
    missing = sorted(raised_codes() - set(builtin_codes()))
    assert not missing, f"add console/runbooks/builtin/<code>.md for: {', '.join(missing)}"


@pytest.mark.parametrize("code", builtin_codes())
def test_each_built_in_runbook_is_short_and_says_what_to_do(code: str) -> None:
    """A title naming the code, the four sections in order, short lines, no more than a page or two."""
    assert runbook_name(code) == code
    runbook = RunbookLoader(None).find(code)
    assert runbook.origin == "builtin" and not runbook.truncated and runbook.note is None
    blocks = parse_blocks(runbook.text)
    assert blocks[0].kind == "title" and blocks[0].text.endswith(f"({code})")
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert headings == ["What it means", "Check", "Clear", "Escalate"]
    text = (BUILTIN / f"{code}.md").read_text(encoding="utf-8")
    assert all(len(line) <= 80 for line in text.splitlines())
    assert len(plain_lines(blocks)) <= 50


def test_the_built_in_runbooks_ship_in_the_wheel() -> None:
    """Hatch puts every file under a listed package into the wheel (nothing excludes ``*.md``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert "console" in wheel["packages"]
    assert not wheel.get("exclude") and not wheel.get("only-include")
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert not any(pattern in ("*.md", "builtin/", "console/runbooks/") for pattern in ignored)


# --- the loader -------------------------------------------------------------------------------------------------------


def shown(markdown: str) -> str:
    """What the operator reads of a runbook's Markdown (the loader escapes the marks in paths and codes it quotes)."""
    return "\n".join(plain_lines(parse_blocks(markdown)))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    return folder


def test_the_sites_file_wins_over_the_built_in_one(site: Path) -> None:
    (site / "nozzle_clog.md").write_text("# Ours\n\nCall Sam.\n", encoding="utf-8")
    runbook = RunbookLoader(site).find("nozzle_clog")
    assert runbook.origin == "site" and runbook.found
    assert runbook.path == str(site / "nozzle_clog.md")
    assert runbook.text == "# Ours\n\nCall Sam.\n"


def test_without_the_sites_file_the_built_in_one_is_shown(site: Path) -> None:
    runbook = RunbookLoader(site).find("e_stop")
    assert runbook.origin == "builtin" and runbook.path == "builtin/e_stop.md"
    assert runbook.text.startswith("# Emergency stop pressed (e_stop)")


def test_a_code_in_capitals_maps_to_its_lower_case_file(site: Path) -> None:
    (site / "e-clog.md").write_text("# E-CLOG\n", encoding="utf-8")
    runbook = RunbookLoader(site).find("E-CLOG")
    assert runbook.origin == "site" and runbook.code == "E-CLOG" and runbook.name == "e-clog"


def test_a_code_without_a_runbook_says_so_and_where_to_add_it(site: Path) -> None:
    runbook = RunbookLoader(site).find("coolant_low")
    assert runbook.origin == "missing" and not runbook.found
    assert f"No runbook for code coolant_low. Add coolant_low.md to {site}." in shown(runbook.text)
    gone = RunbookLoader(site / "nowhere").find("coolant_low")
    assert "(that folder does not exist yet)" in gone.text
    unset = RunbookLoader(None).find("coolant_low")
    assert "runbooks_dir" in unset.text and "No runbook for code `coolant_low`" in unset.text


TRAVERSALS = [
    "../secret",
    "..",
    ".",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b",
    "a\\b",
    "..\\secret",
    "C:secret",
    "secret\x00",
    "nozzle_clog/../../secret",
    "%2e%2e%2fsecret",
    ".secret",
    "~/secret",
    "secret.md/",
    " secret",
    "secret\n",
    "ſecret",  # long s: lower-cases to nothing ASCII, but must not pass as "secret"
    "\u212aey",  # the Kelvin sign lower-cases to "k"
    "x" * 65,
    "",
]


@pytest.mark.parametrize("code", TRAVERSALS)
def test_codes_that_are_not_plain_names_are_refused_and_read_nothing(site: Path, code: str) -> None:
    (site.parent / "secret.md").write_text("SECRET", encoding="utf-8")
    (site / "secret.md").write_text("in the folder", encoding="utf-8")
    loader = RunbookLoader(site)
    runbook = loader.find(code)
    assert runbook.origin == "invalid" and runbook.name is None and runbook.path is None
    assert "SECRET" not in runbook.text and loader.reads == 0
    assert "not a runbook name" in shown(runbook.text)


@pytest.mark.parametrize("code", [None, 7, b"nozzle_clog", ["x"]])
def test_a_code_that_is_not_even_a_string_is_refused(code: object) -> None:
    assert RunbookLoader(None).find(code).origin == "invalid"


def test_a_file_over_64_kb_is_cut_with_a_note(site: Path) -> None:
    line = "- check the thing and then check it again\n"
    (site / "long.md").write_text("# Long\n\n" + line * 4000, encoding="utf-8")
    runbook = RunbookLoader(site).find("long")
    assert runbook.origin == "site" and runbook.truncated
    body, _, note = runbook.text.rpartition("\n\n---\n\n")
    assert len(body.encode()) <= MAX_RUNBOOK_BYTES and body.endswith(line.rstrip("\n"))  # cut at a line's end
    assert "longer than 64 KB: the rest is cut" in shown(note) and runbook.note is not None


def test_a_file_that_is_not_utf8_is_shown_with_replacement_characters(site: Path) -> None:
    (site / "latin.md").write_bytes(b"# Caf\xe9\n")
    runbook = RunbookLoader(site).find("latin")
    assert runbook.origin == "site" and "Caf\ufffd" in runbook.text and "is not valid UTF-8" in shown(runbook.text)


def test_a_folder_where_the_file_should_be_is_explained_and_the_built_in_one_shown(site: Path) -> None:
    (site / "e_stop.md").mkdir()
    (site / "mystery.md").mkdir()
    loader = RunbookLoader(site)
    fallback = loader.find("e_stop")
    assert fallback.origin == "builtin" and fallback.note is not None
    assert f"The site's runbook {site / 'e_stop.md'} could not be read: it is a folder, not a file." in fallback.note
    assert "it is a folder, not a file" in shown(fallback.text)  # under the built-in runbook, as a note
    error = loader.find("mystery")
    assert error.origin == "error" and "it is a folder, not a file" in shown(error.text)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(site: Path) -> None:
    os.mkfifo(site / "pipe.md")  # opening it for reading the usual way would wait for a writer for ever
    runbook = RunbookLoader(site).find("pipe")
    assert runbook.origin == "error" and "it is not a regular file" in shown(runbook.text)


def test_a_link_to_a_device_is_refused(site: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    (site / "zero.md").symlink_to("/dev/zero")
    assert "it is not a regular file" in shown(RunbookLoader(site).find("zero").text)


def test_an_unreadable_file_says_permission_denied(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = site / "locked.md"
    path.write_text("# Locked\n", encoding="utf-8")
    if os.name == "nt" or os.geteuid() == 0:  # root reads any file; Windows has no mode bits: refuse it by hand

        def refuse(path: Path, limit: int) -> bytes:
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(loader_module, "_read_capped", refuse)
    path.chmod(0)
    try:
        runbook = RunbookLoader(site).find("locked")
    finally:
        path.chmod(0o600)
    assert runbook.origin == "error" and "permission denied" in shown(runbook.text)


def test_reads_are_cached_until_forgotten(site: Path) -> None:
    path = site / "cached.md"
    path.write_text("# One\n", encoding="utf-8")
    loader = RunbookLoader(site)
    assert loader.cached("cached") is None
    assert loader.find("cached").text == "# One\n"
    path.write_text("# Two\n", encoding="utf-8")
    assert loader.find("CACHED").text == "# One\n" and loader.reads == 1  # the same file, by its lower-case name
    assert loader.cached("cached") is not None
    loader.forget(["cached"])
    assert loader.find("cached").text == "# Two\n" and loader.reads == 2
    assert loader.find("nothing_here").origin == "missing"
    assert loader.cached("nothing_here") is not None  # a miss is remembered too (reload reads again)


def test_find_first_takes_the_first_code_that_has_a_runbook(site: Path) -> None:
    loader = RunbookLoader(site)
    assert loader.find_first(["E-CLOG", "nozzle_clog"]).code == "nozzle_clog"
    assert loader.find_first(["E-CLOG", "also_none"]).name == "e-clog"
    assert loader.find_first([]).origin == "invalid"
    assert loader.cached_first(["E-CLOG", "nozzle_clog"]) is not None
    assert loader.cached_first(["never_read"]) is None


def test_one_loader_per_folder_for_the_process(site: Path) -> None:
    assert loader_for(site) is loader_for(site)
    assert loader_for(None) is not loader_for(site)


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hypothesis")
    folder = root / "runbooks"
    folder.mkdir()
    (root / "secret.md").write_text("SECRET", encoding="utf-8")
    (folder / "plain.md").write_text("# Plain\n", encoding="utf-8")
    return folder


CODES = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"[a-zA-Z0-9_.\-/\\~:%\x00 ]{0,70}", fullmatch=True),
    st.sampled_from(TRAVERSALS),
    st.builds(lambda parts: "/".join(parts), st.lists(st.sampled_from(["..", ".", "secret", "runbooks", ""]))),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CODES)
def test_any_code_never_raises_and_never_reads_outside_the_folder(
    shared_site: Path, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    opened: list[Path] = []
    real = loader_module._read_capped

    def spy(path: Path, limit: int) -> bytes:
        opened.append(path)
        return real(path, limit)

    monkeypatch.setattr(loader_module, "_read_capped", spy)
    runbook = RunbookLoader(shared_site).find(code)
    assert "SECRET" not in runbook.text
    for path in opened:
        assert path.parent == shared_site and path.name == f"{runbook_name(code)}.md"
        assert os.path.realpath(path).startswith(os.path.realpath(shared_site) + os.sep)
    if runbook_name(code) is None:
        assert runbook.origin == "invalid" and not opened


# --- reading the Markdown ---------------------------------------------------------------------------------------------


def test_markdown_is_read_as_plain_blocks() -> None:
    text = (
        "# Nozzle clog (`nozzle_clog`)\n\nThe **extruder** is *blocked*: see [the manual](https://x.example/m).\n"
        "Keep nozzle_clog_x as it is.\n\n## Check\n\n1. Open it (`enter`).\n2. Look:\n   - hot\n   - cold\n\n"
        "   More about 2.\n\n> quoted\n\n```\nraw **code**\n```\n\n---\n<!-- a note to authors -->\nEnd  \nline\n"
    )
    assert plain_lines(parse_blocks(text)) == [
        "Nozzle clog (nozzle_clog)",
        "",
        "The extruder is blocked: see the manual (https://x.example/m). Keep nozzle_clog_x as it is.",
        "",
        "Check",
        "",
        "1. Open it (enter).",
        "2. Look:",
        "  - hot",
        "  - cold",
        "",
        "   More about 2.",
        "",
        "| quoted",
        "",
        "    raw **code**",
        "",
        "-" * 20,
        "End",
        "line",
    ]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("\\*not em\\*", "*not em*"),
        ("``a ` b``", "a ` b"),
        ("![alt](x.png)", "alt"),
        ("<https://a.example>", "https://a.example"),
        ("[https://a.example](https://a.example)", "https://a.example"),
        ("~~gone~~ __strong__ _em_ snake_case_name", "gone strong em snake_case_name"),
        ("[bold red]not markup[/]", "[bold red]not markup[/]"),
        ("unclosed `tick", "unclosed `tick"),
    ],
)
def test_inline_marks_come_off(text: str, plain: str) -> None:
    assert inline(text) == plain


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_reads_as_blocks_without_raising(text: str) -> None:
    blocks = parse_blocks(text)
    assert all(b.kind != "gap" for b in blocks[:1] + blocks[-1:])
    assert not any(a.kind == b.kind == "gap" for a, b in itertools.pairwise(blocks))
    plain_lines(blocks)
