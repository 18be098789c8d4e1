"""``[keys]`` is checked against the app's real bindings at launch: unknown ids, non-keys, reserved and shadowing
keys stop the console with one line naming the file, the line and the key."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from console.cli import build_run_parser
from console.config import ConfigError, load_config
from console.keymap_check import TERMINAL_KEYS, BindingTable, Bound, Context, binding_table, check_keymap
from console.launch import LaunchError, build_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def table() -> BindingTable:
    return binding_table()


def launch_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'theme = "mono"\n\n[keys]\n{keys}', encoding="utf-8")
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(path))
    with pytest.raises(LaunchError) as error:
        build_settings(build_run_parser().parse_args(["--demo"]), {})
    message = str(error.value)
    assert "\n" not in message and "\x1b" not in message
    assert message.startswith(f"config error: {path} line ")
    return message


def _declared_binding_ids() -> set[str]:
    """Every ``Binding(..., id="...")`` written in the app, the screens and the widgets, read from the source."""
    ids: set[str] = set()
    files = [
        ROOT / "console" / "app.py",
        *(ROOT / "console" / "screens").glob("*.py"),
        *(ROOT / "widgets").glob("*.py"),
    ]
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Binding":
                for keyword in node.keywords:
                    if keyword.arg == "id":
                        if isinstance(keyword.value, ast.Constant):
                            ids.add(keyword.value.value)
                        else:  # the app's screen keys: id=f"screen.{mode}"
                            ids.add("screen.*")
    return ids


def test_the_table_has_every_binding_id_in_the_source(table: BindingTable) -> None:
    declared = _declared_binding_ids()
    literal = {i for i in declared if not i.endswith("*")}
    assert literal <= table.ids
    assert {
        f"screen.{mode}" for mode in ("dashboard", "jobs", "alerts", "quality", "nodes", "diagnostics", "audit")
    } <= (table.ids)
    assert {"machine.pause", "app.quit", "dialog.confirm", "data-grid.down", "filter.clear"} <= table.ids


def test_the_defaults_check_clean(table: BindingTable) -> None:
    assert check_keymap({}, table) == []
    assert check_keymap({"machine.pause": "P", "app.quit": "ctrl+q,f10"}, table) == []
    assert check_keymap({"machine.pause": "c", "machine.ready": "p"}, table) == []  # a swap is fine
    assert check_keymap({"quit.yes": "q"}, table) == []  # inside a modal the app's q is not active


def test_a_typo_in_a_binding_id_names_file_line_key_and_the_likely_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = launch_error(tmp_path, monkeypatch, '"machine.pause" = "P"\n"machine.pauze" = "P"\n')
    assert 'line 5: keys."machine.pauze": no binding has this id (did you mean machine.pause?)' in message


def test_a_key_that_shadows_quit_is_refused_naming_both_bindings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = launch_error(tmp_path, monkeypatch, '"machine.pause" = "q"\n')
    assert 'line 4: keys."machine.pause": refused: q would shadow app.quit (Quit)' in message
    assert "machine.pause (Pause/Resume) and app.quit cannot share a key" in message


@pytest.mark.parametrize(
    ("keymap", "other"),
    [
        ({"machine.pause": "ctrl+q"}, "app.quit_now"),
        ({"machine.pause": "?"}, "app.help"),
        ({"job.pause": "1"}, "screen.dashboard"),
        ({"machine.pause": "f"}, "app.freeze"),
        ({"machine.pause": "x"}, "job.cancel"),  # the same screen
        ({"machine.pause": "j"}, "data-grid.down"),  # the focused list sees it first
        ({"machine.pause": "ctrl+i"}, "view.next_panel"),  # ctrl+i is tab
        ({"machine.pause": "m", "machine.ready": "m"}, "machine."),  # two remaps onto one key
        ({"dialog.confirm": "ctrl+p"}, "command palette"),  # the palette's key is a priority key, even on a modal
    ],
)
def test_shadowing_keys(table: BindingTable, keymap: dict[str, str], other: str) -> None:
    problems = check_keymap(keymap, table)
    assert problems and problems[0].message.startswith("refused:")
    assert other in problems[0].message


@pytest.mark.parametrize("key", sorted(TERMINAL_KEYS))
def test_keys_that_terminals_tmux_and_shells_use_are_refused(table: BindingTable, key: str) -> None:
    (problem,) = check_keymap({"machine.pause": f"P,{key}"}, table)
    assert problem.message.startswith(f"refused: {key} is ")


@pytest.mark.parametrize("keys", ["ctrl-p", "P,", "pp", "\x1b[31m", "hyper+ctrl+nothing"])
def test_strings_that_are_not_keys_are_refused(table: BindingTable, keys: str) -> None:
    (problem,) = check_keymap({"machine.pause": keys}, table)
    assert "is not a key name" in problem.message
    assert "\x1b" not in problem.message


def test_a_key_error_from_the_file_is_one_line_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\n# pause\n"machine.pause" = "ctrl+d"\n', encoding="utf-8")
    config = load_config(path)  # the file itself is valid TOML and valid config
    fake = BindingTable(
        frozenset({"machine.pause"}), (Context("S", (Bound("machine.pause", ("p",), "pause", "Pause", "S"),)),)
    )
    from console.keymap_check import check_config_keys

    with pytest.raises(ConfigError, match=r'line 3: keys\."machine\.pause": refused: ctrl\+d is end of input'):
        check_config_keys(config, fake)


def test_a_valid_keymap_reaches_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\n"machine.pause" = "P"\n"view.filter" = "slash,ctrl+f"\n', encoding="utf-8")
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(path))
    settings = build_settings(build_run_parser().parse_args(["--demo"]), {})
    assert settings.keymap == {"machine.pause": "P", "view.filter": "slash,ctrl+f"}
