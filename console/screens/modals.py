"""Modal dialogs: confirmations that say exactly what will happen, with a reason field, and small input forms.

Every action that stops production passes through :class:`ConfirmAction`: it lists the machines and jobs affected
and what will happen to each, and will not confirm without a reason. All server text in these dialogs is shown as
plain text (``Content``), never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from console.formatting import shifted
from console.key_routing import focus_now
from widgets.charset import pick
from widgets.safe_text import clean

_TOGGLE_CSS = """
{cls} > .toggle--button {{ background: $surface; color: $text-muted; }}
{cls}.-on > .toggle--button {{ background: $surface; color: $foreground; text-style: bold; }}
"""
"""The shape carries the state; the chosen one is also bold and brighter (not a colour of its own)."""


class ShapeCheckbox(Checkbox):
    """A checkbox whose state shows by shape, not colour alone: ``[x]`` ticked, ``[ ]`` not (Textual's own box
    draws the same ``X`` both ways, only its colour changes: the same box under ``NO_COLOR``)."""

    DEFAULT_CSS = _TOGGLE_CSS.format(cls="ShapeCheckbox")

    @property
    def _button(self) -> Content:
        return Content.assemble(("[x]" if self.value else "[ ]", self.get_visual_style("toggle--button")))


class ShapeRadioButton(RadioButton):
    """A radio button whose choice shows by shape: ``(*)`` chosen, ``( )`` not."""

    DEFAULT_CSS = _TOGGLE_CSS.format(cls="ShapeRadioButton")

    @property
    def _button(self) -> Content:
        return Content.assemble(("(*)" if self.value else "( )", self.get_visual_style("toggle--button")))


@dataclass(frozen=True)
class Confirmed:
    """The operator said yes: with this reason, and this choice where the dialog offered one."""

    reason: str
    choice: str | None = None


class _Dialog(ModalScreen[Any]):
    """Shared look and keys of the dialogs: escape cancels, ctrl+s / enter on the button confirms."""

    DEFAULT_CSS = """
    _Dialog, ConfirmAction, ConfirmQuit, NoteDialog, ShelveDialog {
        align: center middle;
    }
    #dialog {
        width: 76;
        max-width: 96%;
        height: auto;
        max-height: 92%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    #dialog.-danger { border: thick $error; }
    #dialog .title { text-style: bold; width: 1fr; }
    #dialog .effect { height: auto; max-height: 12; margin: 1 0; }
    #dialog .hint { color: $text-muted; }
    #dialog Input { margin: 0 0 1 0; }
    #dialog .buttons { height: auto; align-horizontal: right; }
    #dialog .buttons Button { margin-left: 1; }
    #dialog RadioSet { width: 1fr; height: auto; margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmAction(_Dialog):
    """Ask before an action: what will happen to which targets, with a reason (required where it stops work)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "confirm", "Confirm", id="dialog.confirm"),
    ]

    def __init__(
        self,
        title: str,
        effects: list[str],
        *,
        confirm_label: str = "Confirm",
        reason_required: bool = True,
        choices: list[tuple[str, str]] | None = None,
        danger: bool = True,
        cancel_label: str = "Cancel",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.effects = effects
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        """The button that does nothing: named for what it keeps ("Keep job(s)") where "Cancel" would sit next to
        a "Cancel job(s)" that does the opposite."""
        self.reason_required = reason_required
        self.choices = choices or []
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-danger" if self.danger else ""):
            yield Label(Content(self.title_text), classes="title")
            if self.choices:
                with RadioSet(id="choice"):
                    for index, (_value, label) in enumerate(self.choices):
                        yield ShapeRadioButton(Content(label), value=index == 0)
            with VerticalScroll(classes="effect"):
                yield Static(
                    Content("\n".join(f"{pick('•', '-')} {clean(line, 300)}" for line in self.effects)), id="effects"
                )
            hint = "Reason (required)" if self.reason_required else "Reason (optional)"
            yield Label(hint, classes="hint")
            yield Input(placeholder="why: e.g. operator check, material change", id="reason")
            with Horizontal(classes="buttons"):
                yield Button(self.cancel_label, id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")

    def on_mount(self) -> None:
        focus_now(self.query_one("#reason", Input))  # a reason typed straight after the key lands here

    def _choice(self) -> str | None:
        if not self.choices:
            return None
        radio = self.query_one("#choice", RadioSet)
        index = radio.pressed_index if radio.pressed_index >= 0 else 0
        return self.choices[index][0]

    def action_confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if self.reason_required and not reason:
            self.notify("A reason is required for this action", severity="warning", timeout=3)
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(Confirmed(reason=reason, choice=self._choice()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.dismiss(None)


class NoteDialog(_Dialog):
    """A short note, e.g. when acknowledging an alert. Enter confirms; the note may be empty."""

    def __init__(self, title: str, lines: list[str], *, label: str = "Note (optional)", button: str = "OK") -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.label = label
        self.button = button

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(self.title_text), classes="title")
            yield Static(Content("\n".join(clean(line, 300) for line in self.lines)), classes="effect")
            yield Label(self.label, classes="hint")
            yield Input(id="note")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.button, id="confirm", variant="primary")

    def on_mount(self) -> None:
        focus_now(self.query_one("#note", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(Confirmed(reason=event.value.strip()))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.dismiss(Confirmed(reason=self.query_one("#note", Input).value.strip()))
        else:
            self.dismiss(None)


SHELVE_DURATIONS: list[tuple[str, timedelta]] = [
    ("15 minutes", timedelta(minutes=15)),
    ("1 hour", timedelta(hours=1)),
    ("4 hours", timedelta(hours=4)),
    ("until the end of the shift (8 hours)", timedelta(hours=8)),
]


@dataclass(frozen=True)
class ShelveChoice:
    until: datetime
    note: str


class ShelveDialog(_Dialog):
    """Shelve an alert: for how long, and a note."""

    def __init__(self, title: str, lines: list[str], now: datetime) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(self.title_text), classes="title")
            yield Static(Content("\n".join(clean(line, 300) for line in self.lines)), classes="effect")
            with RadioSet(id="duration"):
                for index, (label, _delta) in enumerate(SHELVE_DURATIONS):
                    yield ShapeRadioButton(label, value=index == 1)
            yield Label("Note", classes="hint")
            yield Input(id="note")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Shelve", id="confirm", variant="primary")

    def on_mount(self) -> None:
        focus_now(self.query_one("#note", Input))

    def _result(self) -> ShelveChoice:
        radio = self.query_one("#duration", RadioSet)
        index = radio.pressed_index if radio.pressed_index >= 0 else 1
        return ShelveChoice(shifted(self.now, SHELVE_DURATIONS[index][1]), self.query_one("#note", Input).value.strip())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(self._result())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self._result() if event.button.id == "confirm" else None)


class ConfirmQuit(_Dialog):
    """Quit while commands are in flight? Their outcomes would not be seen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "yes", "Quit", id="quit.yes"),
        Binding("n", "cancel", "Stay", id="quit.no"),
    ]

    def __init__(self, in_flight: int) -> None:
        super().__init__()
        self.in_flight = in_flight

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-danger"):
            yield Label("Quit factory-console?", classes="title")
            yield Static(
                f"{self.in_flight} command(s) are still in flight; you will not see their outcome here.\n"
                "The local audit log keeps the attempt.",
                classes="effect",
            )
            with Horizontal(classes="buttons"):
                yield Button("Stay (n)", id="cancel")
                yield Button("Quit (y)", id="confirm", variant="error")

    def action_yes(self) -> None:
        self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")
