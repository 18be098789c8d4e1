"""Lean wire records: validated like the other contract models, stored at a fraction of a ``BaseModel``'s cost.

Why: the console keeps some objects by the hundred thousand (jobs). A pydantic ``BaseModel`` instance carries a
``__dict__`` (~460 bytes for 20 fields) and, while it is parsed, its own set of given field names (~700 bytes), and
parsing a 100,000-job snapshot leaves the allocator holding the freed sets between the live objects. A pydantic
*dataclass* with ``slots=True`` is validated by the same pydantic-core code from the same JSON, but is one object
with a slot per field (~190 bytes for 20 fields) and builds no per-instance set: measured on 100,000 jobs, parsing
takes 0.6 s instead of 1.45 s and the stored jobs ~80 MB instead of ~180 MB (see docs/performance.md §6).

:class:`LeanModel` gives such records the part of the ``BaseModel`` interface this project uses
(``model_validate``, ``model_validate_json``, ``model_dump``, ``model_dump_json``, ``model_copy``,
``model_fields``)
so the rest of the code does not care which kind a contract model is. Records are frozen: the store's rule that a
stored object is never changed in place is enforced by the type (``object.__setattr__`` is for the store's own
compaction before anyone sees the object).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, TypeVar, dataclass_transform

import pydantic.dataclasses
from pydantic import ConfigDict
from pydantic.fields import Field, FieldInfo

__all__ = ["LEAN_CONFIG", "LeanModel", "WeakLeanModel", "lean"]

LEAN_CONFIG = ConfigDict(extra="ignore", allow_inf_nan=False, populate_by_name=True)
"""The same rules as ``ApiModel``: unknown fields ignored, NaN and infinity refused."""

_T = TypeVar("_T")
_L = TypeVar("_L", bound="LeanModel")
_NEW = object.__new__
_SET = object.__setattr__


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(Field,))
def lean(cls: type[_T]) -> type[_T]:
    """Make ``cls`` (a :class:`LeanModel` subclass with annotated fields) a frozen, slotted pydantic dataclass.

    Keyword-only, so fields with defaults may come before required ones, as in the contract's field order.
    """
    decorate: Callable[[type[_T]], Any] = pydantic.dataclasses.dataclass(
        config=LEAN_CONFIG, slots=True, frozen=True, kw_only=True
    )
    record: type[_T] = decorate(cls)
    record.model_fields = record.__pydantic_fields__  # type: ignore[attr-defined]  # as BaseModel.model_fields
    return record


class LeanModel:
    """The ``BaseModel`` methods this project calls, for slotted pydantic dataclasses (see the module docstring)."""

    __slots__ = ()

    __pydantic_validator__: ClassVar[Any]
    __pydantic_serializer__: ClassVar[Any]
    __pydantic_fields__: ClassVar[dict[str, FieldInfo]]
    model_fields: ClassVar[dict[str, FieldInfo]]
    """The record's fields as pydantic describes them (``BaseModel.model_fields``); set by :func:`lean`."""

    @classmethod
    def model_validate(cls: type[_L], obj: Any) -> _L:
        """Validate a Python object (a dict, or an instance) into a record."""
        if type(obj) is cls:
            return obj
        result: _L = cls.__pydantic_validator__.validate_python(obj)
        return result

    @classmethod
    def model_validate_json(cls: type[_L], data: str | bytes | bytearray) -> _L:
        """Validate JSON text straight into a record (no intermediate dicts)."""
        result: _L = cls.__pydantic_validator__.validate_json(data)
        return result

    @classmethod
    def _field_names(cls) -> tuple[str, ...]:
        names: tuple[str, ...] = cls.__slots__  # the dataclass's slots: its fields
        return names

    def model_dump(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        include: Any = None,
        exclude: Any = None,
        by_alias: bool = False,
        exclude_none: bool = False,
        exclude_defaults: bool = False,
        exclude_unset: bool = False,
    ) -> dict[str, Any]:
        """As ``BaseModel.model_dump``. ``exclude_unset`` excludes nothing: a record does not track which fields
        were given (every contract field of a stored record is set)."""
        dumped: dict[str, Any] = type(self).__pydantic_serializer__.to_python(
            self,
            mode=mode,
            include=include,
            exclude=exclude,
            by_alias=by_alias,
            exclude_none=exclude_none,
            exclude_defaults=exclude_defaults,
        )
        return dumped

    def model_dump_json(
        self, *, include: Any = None, exclude: Any = None, by_alias: bool = False, exclude_none: bool = False
    ) -> str:
        """As ``BaseModel.model_dump_json``."""
        data: bytes = type(self).__pydantic_serializer__.to_json(
            self, include=include, exclude=exclude, by_alias=by_alias, exclude_none=exclude_none
        )
        return data.decode()

    def model_copy(self: _L, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> _L:
        """A copy with ``update`` applied, not validated (as ``BaseModel.model_copy``); unknown names are refused."""
        cls = type(self)
        new = _NEW(cls)
        for name in cls._field_names():
            value = getattr(self, name)
            _SET(new, name, copy.deepcopy(value) if deep else value)
        if update:
            fields = cls.__pydantic_fields__
            for name, value in update.items():
                if name not in fields:
                    raise AttributeError(f"{cls.__name__} has no field {name!r}")
                _SET(new, name, value)
        return new


class WeakLeanModel(LeanModel):
    """A :class:`LeanModel` that can be weakly referenced (a slot of 8 bytes more), for records shared by a cache."""

    __slots__ = ("__weakref__",)
