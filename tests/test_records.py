"""aish.records: the value classes that replaced ``@dataclass`` on the start-up path."""

from __future__ import annotations

import pytest

from aish.records import FrozenRecord, Record, freeze


class Point(FrozenRecord):
    __slots__ = ("x", "y")
    x: int
    y: int

    def __init__(self, x: int, y: int = 0) -> None:
        freeze(self, x=x, y=y)


class Box(Record):
    __slots__ = ("label", "items", "where")
    label: str
    items: list[Point]
    where: dict[str, Point]

    def __init__(self, label: str, items: list[Point] | None = None, where: dict[str, Point] | None = None) -> None:
        self.label = label
        self.items = items if items is not None else []
        self.where = where if where is not None else {}


def test_repr_names_the_class_and_every_field_in_order() -> None:
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    assert repr(Box("b")) == "Box(label='b', items=[], where={})"


def test_equal_by_class_and_fields() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(2, 1)
    assert Box("a") == Box("a") and Box("a") != Box("b")

    class Other(FrozenRecord):
        __slots__ = ("x", "y")

        def __init__(self, x: int, y: int) -> None:
            freeze(self, x=x, y=y)

    assert Point(1, 2) != Other(1, 2)
    assert Point(1, 2) != (1, 2)


def test_a_frozen_record_refuses_changes_and_hashes_by_its_fields() -> None:
    p = Point(1, 2)
    with pytest.raises(AttributeError, match="frozen"):
        p.x = 3
    with pytest.raises(AttributeError, match="frozen"):
        del p.y
    assert hash(p) == hash(Point(1, 2))
    assert {p, Point(1, 2), Point(0, 0)} == {Point(1, 2), Point(0, 0)}


def test_a_mutable_record_is_not_hashable_and_can_change() -> None:
    box = Box("a")
    box.label = "b"
    assert box.label == "b"
    with pytest.raises(TypeError):
        hash(box)
    with pytest.raises(AttributeError):
        box.colour = "red"  # type: ignore[attr-defined]  # slots: no new attributes


def test_replace_copies_with_changes_and_refuses_unknown_fields() -> None:
    p = Point(1, 2)
    assert p.replace(y=5) == Point(1, 5)
    assert p == Point(1, 2)
    with pytest.raises(TypeError, match="no field 'z'"):
        p.replace(z=1)


def test_as_dict_converts_nested_records() -> None:
    box = Box("b", [Point(1), Point(2, 3)], {"home": Point(0, 0)})
    assert box.as_dict() == {
        "label": "b",
        "items": [{"x": 1, "y": 0}, {"x": 2, "y": 3}],
        "where": {"home": {"x": 0, "y": 0}},
    }


def test_frozen_records_copy_and_pickle() -> None:
    import copy
    import pickle

    p = Point(1, 2)
    assert copy.copy(p) == p and copy.deepcopy(p) == p
    assert pickle.loads(pickle.dumps(p)) == p
    box = Box("b", [p])
    assert copy.deepcopy(box) == box and pickle.loads(pickle.dumps(box)) == box


def test_positional_patterns_match_the_fields_in_order() -> None:
    assert Point.__match_args__ == ("x", "y")
    match Point(1, 2):
        case Point(x, y):
            assert (x, y) == (1, 2)
        case _:
            raise AssertionError("no match")
