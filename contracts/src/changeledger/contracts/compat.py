"""Backward-compatibility check between two JSON Schemas of the same event version.

Events stay on their topics, so a consumer may read data written against either schema.
A change therefore breaks consumers when it removes a field, changes a field's type
(including its allowed enum values or format), or adds a field that is required.
Adding an optional field, or changing titles and descriptions, is compatible.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_TYPE_KEYS = ("type", "format", "const")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every change from `old` to `new` that would break a consumer, as readable lines."""
    problems: list[str] = []
    _compare(_Resolver(old), old, _Resolver(new), new, "$", problems)
    return problems


class _Resolver:
    def __init__(self, root: Schema) -> None:
        self.defs: dict[str, Schema] = root.get("$defs", {})

    def resolve(self, node: Schema) -> Schema:
        seen: set[str] = set()
        while "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                break
            seen.add(ref)
            node = {**self.defs.get(ref.rsplit("/", 1)[-1], {}), **_without(node, "$ref")}
        return node


def _without(node: Schema, key: str) -> Schema:
    return {k: v for k, v in node.items() if k != key}


def _compare(
    old_r: _Resolver, old: Schema, new_r: _Resolver, new: Schema, path: str, out: list[str]
) -> None:
    old, new = old_r.resolve(old), new_r.resolve(new)

    if "anyOf" in old or "anyOf" in new:
        old_branches = [old_r.resolve(b) for b in old.get("anyOf", [old])]
        new_branches = [new_r.resolve(b) for b in new.get("anyOf", [new])]
        if sorted(map(_shape, old_branches)) != sorted(map(_shape, new_branches)):
            out.append(f"{path}: type changed from {_describe(old)} to {_describe(new)}")
            return
        for o, n in zip(
            sorted(old_branches, key=_shape), sorted(new_branches, key=_shape), strict=True
        ):
            _compare(old_r, o, new_r, n, path, out)
        return

    for key in _TYPE_KEYS:
        if old.get(key) != new.get(key):
            out.append(f"{path}: {key} changed from {old.get(key)!r} to {new.get(key)!r}")
            return
    if "enum" in old or "enum" in new:
        removed = set(map(str, old.get("enum", []))) - set(map(str, new.get("enum", [])))
        added = set(map(str, new.get("enum", []))) - set(map(str, old.get("enum", [])))
        if removed:
            out.append(f"{path}: enum values removed: {sorted(removed)}")
        if added:
            out.append(f"{path}: enum values added: {sorted(added)}")

    if "items" in old or "items" in new:
        _compare(old_r, old.get("items", {}), new_r, new.get("items", {}), f"{path}[]", out)
    for key in ("prefixItems",):
        for i, (o, n) in enumerate(zip(old.get(key, []), new.get(key, []), strict=False)):
            _compare(old_r, o, new_r, n, f"{path}[{i}]", out)
        if len(old.get(key, [])) != len(new.get(key, [])):
            out.append(f"{path}: tuple length changed")

    old_props: Schema = old.get("properties", {})
    new_props: Schema = new.get("properties", {})
    for name in old_props.keys() - new_props.keys():
        out.append(f"{path}.{name}: field removed")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(newly_required):
        what = "new field is required" if name not in old_props else "field became required"
        out.append(f"{path}.{name}: {what}")
    for name in sorted(old_props.keys() & new_props.keys()):
        _compare(old_r, old_props[name], new_r, new_props[name], f"{path}.{name}", out)


def _shape(node: Schema) -> str:
    return repr([node.get(k) for k in _TYPE_KEYS])


def _describe(node: Schema) -> str:
    if "anyOf" in node:
        return " | ".join(_describe(b) for b in node["anyOf"])
    return str(node.get("type") or node.get("$ref") or node.get("const") or "any")
