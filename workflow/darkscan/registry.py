"""The one registry mechanism behind every extension point.

Processes, variable functions, models, fit methods, derived systematics, triggers and stage
inputs are each a :class:`Registry`: a name -> entry mapping that

* refuses a second registration of a name (a plugin cannot silently replace a built-in);
* imports its built-in modules and the plugins of :mod:`darkscan.channels` before the first
  lookup (:func:`darkscan.plugins.load_plugins`), so that what a plugin registers is found
  wherever the name is looked up;
* answers an unknown name with the closest registered one and the full list.

A search adds entries from its plugin module ``darkscan/channels/<name>.py`` with the
registering decorator or function of the stage (``register_process``, ``register_variables``,
``register_model``, ``register_method``, ``register_derived``, ``register_trigger``,
``register_stage``); no generic file lists them.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(ValueError):
    """A name that no entry of a registry carries.

    Attributes:
        kind: what the registry holds (e.g. ``"process"``).
        name: the name looked up.
        closest: the closest registered name, or None.
    """

    def __init__(self, kind: str, name: str, registered: list[str], *, plural: str | None = None):
        self.kind, self.name = kind, name
        close = difflib.get_close_matches(name, registered, n=1, cutoff=0.6)
        self.closest = close[0] if close else None
        hint = f"; did you mean {self.closest!r}?" if self.closest else ""
        super().__init__(f"unknown {kind} {name!r}{hint} (registered {plural or kind + 's'}: {registered})")


class Registry(Generic[T]):
    """Name -> entry for one kind of extension.

    Args:
        kind: what the entries are, in messages (``"process"``, ``"variable function"``).
        builtins: modules whose import registers the built-in entries (imported lazily, on the
            first lookup, so registries sit low in the import graph).
        plural: the plural of ``kind`` in messages (default ``kind + "s"``).
    """

    def __init__(self, kind: str, *, builtins: tuple[str, ...] = (), plural: str | None = None):
        self.kind = kind
        self.plural = plural or kind + "s"
        self._builtins = builtins
        self._entries: dict[str, T] = {}
        self._loaded = False

    def add(self, name: str, entry: T, *, replace_equal: bool = False) -> T:
        """Register ``entry`` under ``name``.

        Args:
            name: the name configs use.
            entry: what the name stands for.
            replace_equal: accept a second registration of an equal entry (idempotent
                declarations such as stage inputs).

        Raises:
            ValueError: if ``name`` is already registered (with another entry, when
                ``replace_equal``).
        """
        if name in self._entries and not (replace_equal and self._entries[name] == entry):
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        """The entry ``name``; :class:`UnknownNameError` names the closest registered one."""
        self.load()
        if name not in self._entries:
            raise UnknownNameError(self.kind, name, self.names(), plural=self.plural)
        return self._entries[name]

    def names(self) -> list[str]:
        """The registered names, sorted."""
        self.load()
        return sorted(self._entries)

    def values(self, *, load: bool = True) -> list[T]:
        """The entries in registration order; ``load=False`` while the built-ins register."""
        if load:
            self.load()
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        """Names in registration order (built-ins first, then plugins in module order)."""
        self.load()
        return iter(list(self._entries))

    def load(self) -> None:
        """Import the built-in modules and the plugins, once."""
        if self._loaded:
            return
        self._loaded = True  # set first: a module that looks up this registry does not recurse
        for module in self._builtins:
            importlib.import_module(module)
        from darkscan.plugins import load_plugins

        load_plugins()
