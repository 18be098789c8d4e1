"""The messages the list widgets post about one of their rows: which widget (``control``) and which row (``key``)."""

from __future__ import annotations

from textual.message import Message
from textual.widget import Widget


class GridMessage(Message):
    """Base of ``Highlighted``, ``Selected`` and ``MarkToggled`` in :mod:`widgets.data_grid` and
    :mod:`widgets.machine_grid`; each widget subclasses it inside its own class so handler names stay its own
    (``on_data_grid_selected``, ``on_machine_grid_selected``)."""

    def __init__(self, grid: Widget, key: str | None) -> None:
        super().__init__()
        self.grid = grid
        self.key = key

    @property
    def control(self) -> Widget:
        return self.grid
