"""Value classes without ``dataclasses``: what ``@dataclass`` gave aish, paid for at import.

``@dataclass`` writes each class's methods as source text and compiles it when
the class is created: 0.2-0.6 ms per class, and aish's one-shot path created
44 of them (15 ms, plus 6-11 ms to import ``dataclasses`` itself) before its
request could leave (decision 29). A :class:`Record` is a class with
``__slots__`` whose fields are its slots, in order, and a hand-written
``__init__``; the base class gives it what the dataclass gave:

- ``repr``: ``Name(field=value, ...)``;
- ``==``: same class and equal fields (``!=`` follows);
- :meth:`Record.replace`: a copy with some fields changed (``dataclasses.replace``);
- ``__match_args__``: the fields, for positional ``case`` patterns;
- :meth:`Record.as_dict`: the fields as a dict, nested records and their
  lists, tuples and dicts converted too (``dataclasses.asdict``).

Fields are the class's own ``__slots__``: a record does not inherit another
record's fields. A :class:`FrozenRecord` cannot be changed once built (setting or deleting a
field raises :class:`AttributeError`) and is hashable by its fields. Its
``__init__`` sets fields with ``object.__setattr__`` (:func:`freeze` does it
for all of them at once)::

    class Point(FrozenRecord):
        __slots__ = ("x", "y")
        x: int
        y: int

        def __init__(self, x: int, y: int = 0) -> None:
            freeze(self, x=x, y=y)
"""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: this module is on every start-up path
if TYPE_CHECKING:
    from typing import Any, Self

__all__ = ["FrozenRecord", "Record", "freeze"]

_set = object.__setattr__


class Record:
    """A value whose fields are its class's ``__slots__``, in order (also its ``__match_args__``)."""

    __slots__: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__match_args__" not in cls.__dict__:
            type.__setattr__(cls, "__match_args__", cls.__slots__)  # ``case TextDelta(text):``, as a dataclass

    # ``__eq__`` without ``__hash__``: Python makes a Record unhashable, like a dataclass that is not frozen.

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (field names) applied: ``dataclasses.replace``."""
        values = {name: getattr(self, name) for name in self.__slots__}
        unknown = changes.keys() - values.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict; records inside (also in lists, tuples, dicts) too."""
        fields = {}
        for name in self.__slots__:
            value = getattr(self, name)
            kind = type(value)  # most fields are strings and numbers: no call for them
            fields[name] = value if kind is str or kind is int or kind is float or value is None else _plain(value)
        return fields


class FrozenRecord(Record):
    """A :class:`Record` that cannot change once built, hashable by its fields."""

    __slots__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self.__slots__))

    def __reduce__(self) -> tuple[type[Self], tuple[object, ...]]:
        # copy, deepcopy and pickle rebuild it through ``__init__`` (fields in slot order):
        # their default restores slots with ``setattr``, which a frozen record refuses
        return type(self), tuple(getattr(self, name) for name in self.__slots__)


def freeze(record: FrozenRecord, **fields: object) -> None:
    """Set a frozen record's fields (in its ``__init__``)."""
    for name, value in fields.items():
        _set(record, name, value)


def _plain(value: object) -> object:
    if isinstance(value, Record):
        return value.as_dict()
    if type(value) is list:
        return [_plain(v) for v in value]
    if type(value) is tuple:
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: v if type(v) is str or type(v) is int or v is None else _plain(v) for k, v in value.items()}
    return value
