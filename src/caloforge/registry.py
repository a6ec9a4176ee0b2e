"""Explicit name → component registries with helpful errors.

Components (models, solvers, metrics, geometries) are registered by name in their subpackage
``__init__``; configs refer to them by that name.

Example:
    >>> from caloforge.registry import Registry
    >>> THINGS: Registry[type] = Registry("things")
    >>> @THINGS.register("int")
    ... class MyInt(int): ...
    >>> THINGS.get("int") is MyInt
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → object mapping that refuses duplicates and lists choices on unknown names.

    Arguments:
        kind: What the registry holds, used in error messages ("model", "solver", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering an object under ``name``.

        Raises:
            ValueError: If ``name`` is already registered.
        """

        def decorator(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: T) -> None:
        """Registers ``obj`` under ``name`` (non-decorator form)."""
        if name in self._items:
            msg = f"{self.kind} {name!r} is already registered"
            raise ValueError(msg)
        self._items[name] = obj

    def get(self, name: str) -> T:
        """Returns the object registered as ``name``.

        Raises:
            KeyError: If the name is unknown; the message lists the valid choices.
        """
        try:
            return self._items[name]
        except KeyError:
            msg = f"unknown {self.kind} {name!r}; choices are: {', '.join(sorted(self._items))}"
            raise KeyError(msg) from None

    def names(self) -> list[str]:
        """Sorted registered names."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
