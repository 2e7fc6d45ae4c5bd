"""The results made by `_record.frozen_record` behave as the frozen dataclasses they stand for.

Each is held against a twin that `dataclasses.make_dataclass(..., frozen=True)` builds from the
same annotations and defaults.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import sys
import typing
from typing import Any

import cloudpartner
import pytest
from cloudpartner._record import frozen_record

RECORDS = [cloudpartner.CancelResult, cloudpartner.ActionResult]


def twin_of(cls: type) -> Any:
    spec = [
        (name, annotation, dataclasses.field(default=cls.__dict__[name]))
        if name in cls.__dict__
        else (name, annotation)
        for name, annotation in cls.__annotations__.items()
    ]
    return dataclasses.make_dataclass(cls.__name__, spec, frozen=True)


def sample_values(cls: type, seed: str) -> list[object]:
    return [f"{seed}-{name}" if name != "status_code" else 202 for name in cls.__annotations__]


@pytest.fixture(params=RECORDS, ids=lambda cls: cls.__name__)
def record(request: pytest.FixtureRequest) -> type:
    return request.param  # type: ignore[no-any-return]


def test_the_dataclasses_functions_see_a_frozen_dataclass(record: type) -> None:
    twin = twin_of(record)
    value = record(*sample_values(record, "a"))
    assert dataclasses.is_dataclass(record)
    assert dataclasses.is_dataclass(value)
    fields = [(f.name, f.type, f.default, f.init, f.repr, f.compare) for f in dataclasses.fields(value)]
    assert fields == [(f.name, f.type, f.default, f.init, f.repr, f.compare) for f in dataclasses.fields(twin)]
    assert repr(record.__dataclass_params__) == repr(twin.__dataclass_params__)  # type: ignore[attr-defined]
    assert dataclasses.asdict(value) == dataclasses.asdict(twin(*sample_values(record, "a")))
    assert dataclasses.astuple(value) == tuple(sample_values(record, "a"))
    changed = dataclasses.replace(value, offer="other")
    assert type(changed) is record
    assert changed.offer == "other"  # type: ignore[attr-defined]
    assert dataclasses.replace(changed, offer=value.offer) == value  # type: ignore[attr-defined]


def test_construction_repr_and_signature_match_the_twin(record: type) -> None:
    twin = twin_of(record)
    assert inspect.signature(record) == inspect.signature(twin)
    values = sample_values(record, "a")
    assert repr(record(*values)) == repr(twin(*values))
    names = list(record.__annotations__)
    assert record(**dict(zip(names, values))) == record(*values)
    assert getattr(record, "__match_args__", None) == getattr(twin, "__match_args__", None)  # 3.10+
    with pytest.raises(TypeError) as ours:
        record(values[0])
    with pytest.raises(TypeError) as theirs:
        twin(values[0])
    assert str(ours.value).split("()")[1] == str(theirs.value).split("()")[1]  # "missing N required ..."


def test_equality_and_hash_by_value_and_class(record: type) -> None:
    a, same, other = (
        record(*sample_values(record, "a")),
        record(*sample_values(record, "a")),
        record(*sample_values(record, "b")),
    )
    assert a == same
    assert hash(a) == hash(same)
    assert a != other
    assert a != twin_of(record)(*sample_values(record, "a"))  # another class, the same values: not equal
    assert len({a, same, other}) == 2


def test_fields_cannot_be_assigned_or_deleted(record: type) -> None:
    twin = twin_of(record)
    value, twin_value = record(*sample_values(record, "a")), twin(*sample_values(record, "a"))
    for change in (lambda v: setattr(v, "offer", "x"), lambda v: delattr(v, "offer"), lambda v: setattr(v, "new", 1)):
        with pytest.raises(dataclasses.FrozenInstanceError) as ours:
            change(value)
        with pytest.raises(dataclasses.FrozenInstanceError) as theirs:
            change(twin_value)
        assert str(ours.value) == str(theirs.value)


def test_copies_and_pickles_are_equal(record: type) -> None:
    value = record(*sample_values(record, "a"))
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.copy(value) == value
    assert copy.deepcopy(value) == value
    if sys.version_info >= (3, 13):
        assert copy.replace(value, offer="other") == dataclasses.replace(value, offer="other")  # type: ignore[attr-defined]


def test_a_subclass_asked_before_its_record_class_sees_the_fields() -> None:
    @frozen_record(frozen=True)
    class Record:
        name: str
        size: int = 0

    class Plain(Record):  # asked first: the bookkeeping is built from Record all the same
        pass

    value = Plain("a", 2)
    assert [f.name for f in dataclasses.fields(value)] == ["name", "size"]
    assert dataclasses.replace(value, size=3).size == 3
    assert dataclasses.asdict(value) == {"name": "a", "size": 2}
    assert [f.name for f in dataclasses.fields(Record)] == ["name", "size"]


@pytest.mark.skipif(sys.version_info < (3, 10), reason="`str | None` evaluates from Python 3.10")
def test_type_hints_resolve_without_typing_imported_by_the_package(record: type) -> None:
    hints = typing.get_type_hints(record)
    assert hints["publisher"] is str
    assert hints["operation_location"] == typing.Optional[str]


def test_results_pickled_by_0_1_0_still_load() -> None:
    # 0.1.0 defined CancelResult in cloudpartner._types: a pickle names the class by its module.
    value = cloudpartner.CancelResult("contoso", "offer", 202, "https://x/operations/1", "1")
    old = pickle.dumps(value, protocol=0).replace(b"cloudpartner._results", b"cloudpartner._types")
    assert b"cloudpartner._types" in old
    assert pickle.loads(old) == value


def test_only_frozen_records_are_made() -> None:
    with pytest.raises(TypeError, match="frozen"):
        frozen_record(frozen=False)
