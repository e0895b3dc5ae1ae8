"""JSON Schemas a user wrote (tool parameters, ``output_schema``), made safe to check and to use.

A user schema is data, not code, and is treated that way:

* no ``$ref`` is ever fetched: every validator here resolves references through a registry whose
  ``retrieve`` refuses, and ``check`` refuses any reference that does not stay inside the schema
  (``#``, ``#/$defs/name``, ``#anchor``) and any ``$id`` (which would move where ``#`` points);
* reference cycles that never consume any of the value (``$ref: "#"`` at the top, ``a -> b -> a``
  through ``allOf``...) would recurse forever: ``check`` finds them;
* every ``pattern`` (and ``patternProperties`` key) is compiled when the project is checked, with
  the ``regex`` package, and run with a time limit (:data:`PATTERN_SECONDS`): a
  catastrophically backtracking pattern fails one value instead of hanging the run. ``regex``
  was chosen over a static complexity bound because no syntactic rule catches every
  exponential pattern, while a timeout does, and its syntax is that of Python's ``re``, which
  jsonschema used before. ``unevaluatedProperties`` beside ``patternProperties`` is refused:
  jsonschema evaluates those patterns itself, without the time limit.

jsonschema and regex are imported inside the functions that need them, keeping them off the
command line's start-up path.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Iterator
from typing import Any

from germinate.jsonl import json_type

#: seconds one ``pattern`` may take on one value
PATTERN_SECONDS = 0.25

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "items",
    "additionalItems",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
# applicators that look at the same value again, without stepping into it: a cycle made only of
# these (and references) never ends
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_ONE = ("not", "if", "then", "else")

Where = tuple[Any, ...]


class PatternTimeout(Exception):
    pass


def _refuse(uri: str) -> Any:
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class: the stubs miss its fields


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    """A compiled ``regex`` pattern; raises ``regex.error`` for a bad one."""
    import regex

    return regex.compile(pattern)


def search(pattern: str, text: str) -> bool:
    """``re.search`` semantics, with the time limit; raises :class:`PatternTimeout`."""
    try:
        return compile_pattern(pattern).search(text, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        raise PatternTimeout(pattern) from None


def _slow(pattern: str) -> str:
    return f"pattern {pattern[:60]!r} took longer than {PATTERN_SECONDS:g} s on this value; simplify the pattern"


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    try:
        if not search(pattern, instance):
            yield ValidationError(f"{instance[:60]!r} does not match {pattern[:60]!r}")
    except PatternTimeout:
        yield ValidationError(_slow(pattern))
    except Exception as exc:  # an invalid pattern that check did not see (a plugin's own schema)
        yield ValidationError(f"invalid pattern {pattern[:60]!r}: {exc}")


def _matching(patterns: Any, key: str) -> Iterator[str]:
    for pattern in patterns:
        if search(pattern, key):
            yield pattern


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    for key, value in instance.items():
        try:
            matched = list(_matching(patterns, key))
        except PatternTimeout as exc:
            yield ValidationError(_slow(str(exc)), path=[key])
            continue
        for pattern in matched:
            yield from validator.descend(value, patterns[pattern], path=key, schema_path=pattern)


def _additional_properties(validator: Any, extra_schema: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = []
    for key in instance:
        if key in properties:
            continue
        try:
            if any(True for _ in _matching(patterns, key)):
                continue
        except PatternTimeout as exc:
            yield ValidationError(_slow(str(exc)), path=[key])
            continue
        extras.append(key)
    if validator.is_type(extra_schema, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra_schema, path=key)
    elif not extra_schema and extras:
        listed = ", ".join(repr(k) for k in sorted(extras))
        yield ValidationError(
            f"Additional properties are not allowed ({listed} {'was' if len(extras) == 1 else 'were'} unexpected)"
        )


@functools.lru_cache(maxsize=1)
def _validator_class() -> Any:
    import jsonschema

    return jsonschema.validators.extend(
        jsonschema.Draft202012Validator,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    )


def schema_validator(schema: Any) -> Any:
    """A Draft 2020-12 validator for ``schema`` that never fetches a reference and runs every
    pattern under a time limit. Use it for every schema a user could have written."""
    from referencing import Registry

    return _validator_class()(schema, registry=Registry(retrieve=_refuse))  # type: ignore[call-arg]


# -- checking a user schema before it is used -------------------------------------------------------


def _subschemas(schema: dict[str, Any], where: Where) -> Iterator[tuple[Where, Any, bool]]:
    """(where, subschema, in place) for every subschema directly inside ``schema``."""
    for key in _SCHEMA_MAPS:
        if isinstance(schema.get(key), dict):
            for name, sub in schema[key].items():
                yield where + (key, name), sub, key == "dependentSchemas"
    for key in _SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            for index, sub in enumerate(schema[key]):
                yield where + (key, index), sub, key in _IN_PLACE_LISTS
    for key in _SCHEMA_ONE:
        if key in schema:
            yield where + (key,), schema[key], key in _IN_PLACE_ONE


def _unpointer(fragment: str) -> list[str]:
    parts = urllib.parse.unquote(fragment).split("/")[1:]
    return [p.replace("~1", "/").replace("~0", "~") for p in parts]


class _Graph:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.nodes: dict[Where, Any] = {}
        self.anchors: dict[str, Where] = {}
        self.problems: list[tuple[Where, str]] = []
        self.refs: list[tuple[Where, str, str]] = []
        self.has_unevaluated_properties = False
        self.has_pattern_properties = False

    def collect(self) -> None:
        stack: list[tuple[Where, Any]] = [((), self.root)]
        while stack:
            where, schema = stack.pop()
            if not isinstance(schema, dict) or where in self.nodes:
                continue
            self.nodes[where] = schema
            self.inspect(where, schema)
            stack.extend((sub_where, sub) for sub_where, sub, _ in _subschemas(schema, where))

    def inspect(self, where: Where, schema: dict[str, Any]) -> None:
        for key in ("$id", "id"):
            if isinstance(schema.get(key), str):
                self.problems.append(
                    (where + (key,), f"{key} is not supported: a schema here stands alone (drop {key})")
                )
        for key in ("$anchor", "$dynamicAnchor"):
            if isinstance(schema.get(key), str):
                self.anchors[schema[key]] = where
        for key in ("$ref", "$dynamicRef", "$recursiveRef"):
            if isinstance(schema.get(key), str):
                self.refs.append((where, key, schema[key]))
        if isinstance(schema.get("pattern"), str):
            self.compile(where + ("pattern",), schema["pattern"])
        if isinstance(schema.get("patternProperties"), dict):
            self.has_pattern_properties = True
            for pattern in schema["patternProperties"]:
                self.compile(where + ("patternProperties", pattern), pattern)
        if "unevaluatedProperties" in schema:
            self.has_unevaluated_properties = True
        self.unsatisfiable(where, schema)

    def unsatisfiable(self, where: Where, schema: dict[str, Any]) -> None:
        """A schema no value can match is a mistake in the schema, not in every record checked
        against it: one line here instead of one per seed (and every candidate thrown away)."""
        if schema.get("enum") == []:
            self.problems.append((where + ("enum",), "enum lists no value, so nothing can match"))
        properties, required = schema.get("properties"), schema.get("required")
        if not isinstance(properties, dict) or not isinstance(required, list) or "patternProperties" in schema:
            return
        # germinate closes an object that lists properties and says nothing of other keys
        # (forbid_extra_keys): no additionalProperties counts as false
        if schema.get("additionalProperties", False) is not False or "unevaluatedProperties" in schema:
            return
        for name in required:
            if isinstance(name, str) and name not in properties:
                self.problems.append(
                    (
                        where + ("required",),
                        f"{name[:60]!r} is required but not defined under properties, and no other key is "
                        "allowed: nothing can match (define it under properties)",
                    )
                )
                return

    def compile(self, where: Where, pattern: str) -> None:
        try:
            compile_pattern(pattern)
        except Exception as exc:
            self.problems.append((where, f"invalid pattern {pattern[:60]!r}: {str(exc).splitlines()[0]}"))

    def target(self, ref: str) -> Where | str:
        """Where a reference leads inside the schema, or why it may not be followed."""
        if not ref.startswith("#"):
            return (
                f"reference {ref[:80]!r} leaves the schema, and germinate fetches nothing: inline it, or put it "
                f"under $defs and write '#/$defs/<name>'"
            )
        fragment = ref[1:]
        if fragment and not fragment.startswith("/"):
            return self.anchors.get(fragment, f"reference {ref[:80]!r}: no $anchor {fragment!r} in the schema")
        where: list[Any] = []
        node: Any = self.root
        for part in _unpointer(fragment):
            if isinstance(node, dict) and part in node:
                node = node[part]
                where.append(part)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                where.append(int(part))
            else:
                return f"reference {ref[:80]!r} points at nothing in the schema"
        if not isinstance(node, (dict, bool)):
            return f"reference {ref[:80]!r} points at a JSON {json_type(node)}, not a schema"
        return tuple(where)

    def cycle(self, edges: dict[Where, list[Where]]) -> list[Where] | None:
        """A cycle of in-place steps, if there is one (iterative depth-first search)."""
        state: dict[Where, int] = {}
        for start in edges:
            if state.get(start):
                continue
            stack: list[tuple[Where, int]] = [(start, 0)]
            trail: list[Where] = []
            while stack:
                node, index = stack.pop()
                if index == 0:
                    state[node] = 1
                    trail.append(node)
                successors = edges.get(node, [])
                if index < len(successors):
                    stack.append((node, index + 1))
                    nxt = successors[index]
                    if state.get(nxt) == 1:
                        return trail[trail.index(nxt) :] + [nxt]
                    if not state.get(nxt):
                        stack.append((nxt, 0))
                else:
                    state[node] = 2
                    trail.pop()
        return None


def _pointer(where: Where) -> str:
    return "#" + "".join(f"/{part}" for part in where)


def check_user_schema(schema: Any) -> list[tuple[Where, str]]:
    """Every reason ``schema`` may not be used, as (where inside it, message); empty when it is a
    valid Draft 2020-12 schema that is safe to validate with :func:`schema_validator`."""
    import jsonschema
    from jsonschema.exceptions import best_match

    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    try:
        error = best_match(meta.iter_errors(schema))
    except RecursionError:
        return [((), "nested too deeply to check")]
    if error is not None:
        path = tuple(error.absolute_path)
        if path and path[-1] == "type":
            return [(path, f"unknown type {_short(error.instance)} (types: {_TYPES})")]
        return [(path, error.message if len(error.message) <= 200 else error.message[:197] + "...")]
    graph = _Graph(schema)
    graph.collect()
    problems = list(graph.problems)
    edges: dict[Where, list[Where]] = {where: [] for where in graph.nodes}
    for where, node in graph.nodes.items():
        edges[where] += [sub_where for sub_where, sub, in_place in _subschemas(node, where) if in_place]
    for where, key, ref in graph.refs:
        target = graph.target(ref)
        if isinstance(target, str):
            problems.append((where + (key,), target))
        else:
            edges[where].append(target)
    if graph.has_unevaluated_properties and graph.has_pattern_properties:
        problems.append(
            (
                (),
                "unevaluatedProperties beside patternProperties is not supported (its patterns would run without "
                "a time limit): use additionalProperties",
            )
        )
    if not problems:
        loop = graph.cycle(edges)
        if loop is not None:
            problems.append(
                (loop[0], "a reference cycle that never steps into the value: " + " -> ".join(map(_pointer, loop)))
            )
    return problems


_TYPES = "string, integer, number, boolean, array, object, null"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def standalone(schema: Any, name: str) -> Any:
    """``schema`` marked as its own resource, so that its ``#...`` references keep pointing into it
    once it is embedded in a larger schema (a tool's parameters inside the record's rule)."""
    if not isinstance(schema, dict):
        return schema
    return {**schema, "$id": f"urn:germinate:{urllib.parse.quote(name, safe='')}"}
