"""``@dataclass(frozen=True)`` for classes of plain fields, importing ``dataclasses`` only when asked.

``frozen_record(frozen=True)`` makes of such a class what ``dataclass(frozen=True)`` makes.
``import dataclasses`` pulls in ``inspect`` and ``re``: 7-15 ms in a fresh process, most of what a
one-shot cancel spent in Python. The results a cancel, publish or go-live returns are records of
plain fields (a name, a type, maybe a default), for which the generated methods are short; this
writes them the same way ``dataclasses`` does (``__init__`` with the same signature, ``__repr__``,
``__eq__``, ``__hash__``, frozen ``__setattr__``/``__delattr__``, ``__match_args__``). What
``dataclasses`` keeps about a class, ``__dataclass_fields__`` and ``__dataclass_params__``, is
made by ``dataclasses`` itself, from a twin declared with the same fields, the first time anything
looks for it: so ``is_dataclass``, ``fields``, ``asdict``, ``astuple`` and ``replace`` work, and
assigning to a field raises ``dataclasses.FrozenInstanceError``. tests/test_record.py holds every
such class against its twin. ``_results.py`` uses it under the name ``dataclass``, so type
checkers, which see ``dataclasses.dataclass`` there, check the classes as the dataclasses they are.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from typing import Any, Callable, TypeVar

    T = TypeVar("T", bound=type)

__all__ = ["frozen_record"]

# Filled in from a twin made by `dataclasses` on first access (see `_DataclassAttribute`).
_DATACLASS_ATTRIBUTES = ("__dataclass_fields__", "__dataclass_params__")


def frozen_record(*, frozen: bool) -> Callable[[T], T]:
    """``dataclass(frozen=True)``, for classes of plain annotated fields with optional defaults."""
    if not frozen:
        msg = "frozen_record makes frozen dataclasses only"
        raise TypeError(msg)
    return _make


def _make(record: T) -> T:
    cls: Any = record  # the methods below are set on it, which type checkers cannot follow
    names = tuple(cls.__annotations__)
    # Fields named in `__record_hidden__` are `field(repr=False, compare=False)`: kept, not shown
    # or compared (a result's raw JSON).
    shown = tuple(name for name in names if name not in getattr(cls, "__record_hidden__", ()))
    defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
    namespace: dict[str, Any] = {"_set": object.__setattr__, "_defaults": defaults}
    parameters = ", ".join(f"{name}=_defaults[{name!r}]" if name in defaults else name for name in names)
    assignments = "".join(f"    _set(self, {name!r}, {name})\n" for name in names) or "    pass\n"
    # The same generated source as dataclasses', so signatures, help() and tracebacks read alike.
    exec(f"def __init__(self, {parameters}):\n{assignments}", namespace)  # noqa: S102 - source built from field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**{name: cls.__annotations__[name] for name in names}, "return": None}
    cls.__init__ = init

    def key(self: Any) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in shown)

    def __repr__(self: Any) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(key(self) == key(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(key(self))

    def __setattr__(self: Any, name: str, value: object) -> None:
        if type(self) is cls or name in names:
            raise _frozen_error(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise _frozen_error(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    def __replace__(self: Any, **changes: Any) -> Any:
        import dataclasses  # noqa: PLC0415 - asked for by copy.replace (Python 3.13+)

        return dataclasses.replace(self, **changes)

    methods = [__repr__, __eq__, __hash__, __setattr__, __delattr__]
    if sys.version_info >= (3, 13):  # where dataclasses add it, for copy.replace
        methods.append(__replace__)
    for method in methods:
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(cls, method.__name__, method)
    if sys.version_info >= (3, 10):  # where dataclasses add it, for match statements
        cls.__match_args__ = names  # type: ignore[misc]
    for attribute in _DATACLASS_ATTRIBUTES:
        setattr(cls, attribute, _DataclassAttribute(attribute, cls))
    return record


def _frozen_error(message: str) -> Exception:
    from dataclasses import FrozenInstanceError  # noqa: PLC0415 - only when someone assigns

    return FrozenInstanceError(message)


class _DataclassAttribute:
    """``__dataclass_fields__`` or ``__dataclass_params__``, made by ``dataclasses`` when first read.

    On first access from the class, a subclass or an instance, a twin of the record class (the
    same annotations and defaults) goes through ``@dataclass(frozen=True)``, and its two attributes
    replace these placeholders on the record class, which subclasses inherit as they would a
    dataclass's.
    """

    def __init__(self, attribute: str, record: Any) -> None:
        self.attribute = attribute
        self.record = record

    def __get__(self, instance: object, owner: type) -> Any:
        import dataclasses  # noqa: PLC0415 - the point of this class

        record = self.record
        namespace = {name: record.__dict__[name] for name in record.__annotations__ if name in record.__dict__}
        for name in getattr(record, "__record_hidden__", ()):
            default = {"default": namespace[name]} if name in namespace else {}
            namespace[name] = dataclasses.field(repr=False, compare=False, **default)
        namespace["__annotations__"] = dict(record.__annotations__)
        namespace["__module__"] = record.__module__
        twin: Any = dataclasses.dataclass(frozen=True)(type(record.__name__, (), namespace))
        for attribute in _DATACLASS_ATTRIBUTES:
            setattr(record, attribute, getattr(twin, attribute))
        return getattr(record, self.attribute)
