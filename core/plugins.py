"""Loading plugins from the ``germinate`` entry-point group and collecting what they register.

Built-in task types, validators and teachers are separate distributions that register through
the same entry points as third-party plugins; nothing here names any of them.

Environment:
  GERMINATE_LOAD_PLUGINS      comma list of plugin (entry point or distribution) names to load;
                              set but empty loads none
  GERMINATE_DISABLED_PLUGINS  comma list of names never to load
  GERMINATE_TRACE_PLUGINS=1   print every hook call and its result to stderr
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from typing import Any

import attrs
import pluggy

from germinate import hookspecs
from germinate.problems import GerminateError

GROUP = "germinate"
KINDS = ("task_types", "validators", "teachers")


@attrs.define
class PluginInfo:
    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = attrs.field(factory=list)
    provides: dict[str, list[str]] = attrs.field(factory=lambda: {k: [] for k in KINDS})

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.define
class Registered:
    obj: Any
    plugin: str


def _names(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _trace(line: str) -> None:
    print(f"[germinate trace] {line}", file=sys.stderr)


class Plugins:
    """The plugin manager plus the objects its plugins registered, loaded once per process."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.tracing = os.environ.get("GERMINATE_TRACE_PLUGINS", "") not in ("", "0")
        if self.tracing:
            self.pm.add_hookcall_monitoring(
                lambda name, impls, kwargs: _trace(
                    f"call {name}({', '.join(kwargs)}) -> {[i.plugin_name for i in impls]}"
                ),
                lambda outcome, name, impls, kwargs: _trace(f"  {name} returned {outcome.get_result()!r}"),
            )
        #: one line per plugin that could not be loaded or failed while registering
        self.failures: list[str] = []
        self.info: dict[str, PluginInfo] = {}
        self._registered: dict[str, dict[str, Registered]] | None = None
        self._load_entry_points()

    # -- loading -------------------------------------------------------------------------------

    def _load_entry_points(self) -> None:
        wanted = _names("GERMINATE_LOAD_PLUGINS")
        disabled = _names("GERMINATE_DISABLED_PLUGINS") or set()
        for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else None
            names = {ep.name, dist} - {None}
            if wanted is not None and not names & wanted:
                continue
            if names & disabled or self.pm.has_plugin(ep.name):
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not take the CLI down with it
                self.failures.append(f"plugin {ep.name!r} ({dist}) failed to import: {type(exc).__name__}: {exc}")
                continue
            self.add(module, ep.name, distribution=dist, version=ep.dist.version if ep.dist else None)

    def add(self, plugin: Any, name: str, distribution: str | None = None, version: str | None = None) -> None:
        """Register a plugin object; a hook implementation that matches no hook spec fails fast."""
        self.pm.register(plugin, name=name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            raise GerminateError(f"plugin {name!r}: {exc}") from None
        hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        if not hooks:
            self.failures.append(f"plugin {name!r} implements no germinate hook (is @hookimpl missing?)")
        self.info[name] = PluginInfo(name, distribution, version, hooks)
        self._registered = None

    def remove(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.info.pop(name, None)
        self._registered = None

    # -- what plugins provide --------------------------------------------------------------------

    def each(self, hook: str, **kwargs: Any) -> None:
        """Call every implementation of ``hook`` separately, so that one plugin raising yields a
        line naming it instead of aborting the others."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            args = {k: kwargs[k] for k in impl.argnames}
            if self.tracing:
                _trace(f"call {hook}({', '.join(args)}) -> {impl.plugin_name}")
            try:
                impl.function(**args)
            except Exception as exc:
                self.failures.append(f"plugin {impl.plugin_name!r} failed in {hook}: {type(exc).__name__}: {exc}")

    def _collect(self) -> dict[str, dict[str, Registered]]:
        if self._registered is not None:
            return self._registered
        found: dict[str, dict[str, Registered]] = {k: {} for k in KINDS}
        for kind in KINDS:
            for impl in getattr(self.pm.hook, f"register_{kind}").get_hookimpls():  # registration order
                self._call_register(kind, impl, found[kind])
        self._registered = found
        return found

    def _call_register(self, kind: str, impl: Any, into: dict[str, Registered]) -> None:
        plugin = impl.plugin_name

        def register(obj: Any) -> None:
            name = getattr(obj, "name", None)
            if not isinstance(name, str) or not name:
                raise TypeError(f"registered {type(obj).__name__} has no name")
            if name in into:
                self.failures.append(
                    f"plugin {plugin!r} registers {kind[:-1].replace('_', ' ')} "
                    f"{name!r}, already provided by {into[name].plugin!r}; ignored"
                )
                return
            into[name] = Registered(obj, plugin)
            if plugin in self.info:
                self.info[plugin].provides[kind].append(name)

        if self.tracing:
            _trace(f"call register_{kind}(register) -> {plugin}")
        try:
            impl.function(register)
        except Exception as exc:
            self.failures.append(f"plugin {plugin!r} failed in register_{kind}: {type(exc).__name__}: {exc}")

    def registered(self, kind: str) -> dict[str, Any]:
        return {name: r.obj for name, r in self._collect()[kind].items()}

    def provider(self, kind: str, name: str) -> str:
        return self._collect()[kind][name].plugin

    @property
    def task_types(self) -> dict[str, Any]:
        return self.registered("task_types")

    @property
    def validators(self) -> dict[str, Any]:
        return self.registered("validators")

    @property
    def teachers(self) -> dict[str, Any]:
        return self.registered("teachers")

    def listing(self) -> list[dict[str, Any]]:
        self._collect()
        return [self.info[name].as_dict() for name in sorted(self.info)]


_plugins: Plugins | None = None


def get_plugins() -> Plugins:
    global _plugins
    if _plugins is None:
        _plugins = Plugins()
    return _plugins


def lookup(kind: str, name: str, plugins: Plugins | None = None) -> Any:
    """The registered object of ``kind`` called ``name``, or a GerminateError listing the choices."""
    plugins = plugins or get_plugins()
    table = plugins.registered(kind)
    if name not in table:
        label = kind[:-1].replace("_", " ")
        known = ", ".join(sorted(table)) or "none"
        raise GerminateError(f"unknown {label} {name!r} (installed: {known})")
    return table[name]
