"""Server-side apply for the test API server, modelled on kube-apiserver's structured-merge-diff.

A field manager owns a set of field paths. A path is a tuple of elements as managedFields write
them: "f:<name>" for a field, 'k:{"key":"value",...}' for an item of a list-map (its key fields,
sorted, as JSON). An item's own path is a member of the set besides its fields ("." in FieldsV1).

What an apply does, as structured-merge-diff does it:
  - the applied object's fields are the manager's set from now on;
  - a field it sets to a value other than the stored one, owned by another manager, is a
    conflict (409) unless forced, and forcing takes the field from its owner;
  - the applied object is merged into the stored one: maps field by field, list-maps item by
    item by key, everything else (scalars, atomic lists) replaced;
  - a field the manager applied before and applies no more is removed, unless another manager
    owns it (or, for an item or a map, something beneath it).

The schema is given as which lists are list-maps (and their keys) and which maps are atomic;
every other list is atomic and every other map is granular. Python standard library only.
"""

import copy
import json


class Schema:
    """Which lists are list-maps, by field-name path (item keys left out), and which maps are atomic."""

    def __init__(self, list_maps, atomic_maps=()):
        self.list_maps = {tuple(path): keys for path, keys in list_maps.items()}
        self.atomic_maps = {tuple(path) for path in atomic_maps}

    def keys(self, names):
        return self.list_maps.get(tuple(names))

    def granular(self, value, names):
        return isinstance(value, dict) and tuple(names) not in self.atomic_maps


class KeyError_(ValueError):
    """A list-map item without one of its required key fields."""


def key_element(item, keys, required):
    if not isinstance(item, dict):
        raise KeyError_("an item of a list-map must be an object")
    missing = [k for k in required if k not in item]
    if missing:
        raise KeyError_("an item of a list-map has no key field %s" % missing[0])
    present = {k: item[k] for k in sorted(keys) if k in item and item[k] is not None}
    return "k:" + json.dumps(present, sort_keys=True, separators=(",", ":"))


def field_paths(value, schema, required_keys, names=(), prefix=()):
    """The set an applied object owns: every leaf, every list-map item and its fields."""
    out = set()
    if not schema.granular(value, names) or not value:
        if prefix:
            out.add(prefix)
        return out
    for name, child in value.items():
        path, child_names = prefix + ("f:" + name,), names + (name,)
        keys = schema.keys(child_names)
        if keys is not None and isinstance(child, list) and child:
            for item in child:
                item_path = path + (key_element(item, keys, required_keys.get(child_names, keys)),)
                out.add(item_path)
                out |= field_paths(item, schema, required_keys, child_names, item_path)
        elif schema.granular(child, child_names) and child:
            out |= field_paths(child, schema, required_keys, child_names, path)
        else:
            out.add(path)
    return out


def _item_key(element):
    return json.loads(element[2:])


def _find(items, element, keys):
    key = _item_key(element)
    for index, item in enumerate(items):
        if isinstance(item, dict) and {k: item[k] for k in keys if k in item and item[k] is not None} == key:
            return index
    return None


def value_at(obj, path, schema):
    """(True, value) at `path`, or (False, None)."""
    node, names = obj, ()
    for element in path:
        if element.startswith("f:"):
            name = element[2:]
            if not isinstance(node, dict) or name not in node:
                return False, None
            node, names = node[name], names + (name,)
        else:
            keys = schema.keys(names)
            if keys is None or not isinstance(node, list):
                return False, None
            index = _find(node, element, keys)
            if index is None:
                return False, None
            node = node[index]
    return True, node


def merge(current, applied, schema, names=()):
    """The applied object merged into the stored one."""
    if schema.granular(applied, names) and isinstance(current, dict):
        out = copy.deepcopy(current)
        for name, value in applied.items():
            child_names = names + (name,)
            keys = schema.keys(child_names)
            if keys is not None and isinstance(value, list) and isinstance(out.get(name), list):
                out[name] = _merge_items(out[name], value, keys, schema, child_names)
            else:
                out[name] = merge(out.get(name), value, schema, child_names)
        return out
    return copy.deepcopy(applied)


def _merge_items(current, applied, keys, schema, names):
    out = copy.deepcopy(current)
    for item in applied:
        element = key_element(item, keys, ())
        index = _find(out, element, keys)
        if index is None:
            out.append(copy.deepcopy(item))
        else:
            out[index] = merge(out[index], item, schema, names)
    return out


def remove_path(obj, path, schema):
    """Removes the field or item at `path`; then the maps and list-maps that removal left empty,
    up to (not including) the top-level field. An item is never removed for being empty."""
    chain, node, names = [], obj, ()
    for element in path:
        chain.append((node, element, names))
        if element.startswith("f:"):
            if not isinstance(node, dict) or element[2:] not in node:
                return
            node, names = node[element[2:]], names + (element[2:],)
        else:
            keys = schema.keys(names)
            index = _find(node, element, keys) if keys is not None and isinstance(node, list) else None
            if index is None:
                return
            node = node[index]
    container, element, names = chain[-1]
    if element.startswith("f:"):
        container.pop(element[2:], None)
    else:
        container.pop(_find(container, element, schema.keys(names)))
    for depth in range(len(chain) - 1, 1, -1):
        emptied = chain[depth][0]
        parent, element, _ = chain[depth - 1]
        if emptied not in ({}, []) or not element.startswith("f:"):
            break
        parent.pop(element[2:], None)


def disowned(dropped, owned_by_others):
    """What to remove of the paths a manager no longer applies: those nobody else owns, nor
    anything beneath (an item or map someone still has a field in stays), shortest first and
    each once (a removed item takes its fields with it). An item's key fields go only with the
    item, and a top-level field (all of `status`) never goes."""
    def beneath(path, paths):
        return any(len(o) > len(path) and o[:len(path)] == path for o in paths)
    removable = [p for p in dropped if len(p) > 1 and p not in owned_by_others and not beneath(p, owned_by_others)]
    out = []
    for path in sorted(removable, key=lambda p: (len(p), p)):
        if any(path[:len(done)] == done for done in out):
            continue
        if len(path) >= 2 and path[-2].startswith("k:") and path[-1].startswith("f:") and path[-1][2:] in _item_key(path[-2]):
            continue
        out.append(path)
    return out


def to_fieldsv1(paths):
    """A set as managedFields' FieldsV1 writes it."""
    root = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = root
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return _sorted(root)


def _sorted(tree):
    return {k: _sorted(tree[k]) for k in sorted(tree)}


def from_fieldsv1(tree, prefix=()):
    """The set a FieldsV1 object names."""
    paths = set()
    if not isinstance(tree, dict):
        return paths
    for element, sub in tree.items():
        if element == ".":
            paths.add(prefix)
            continue
        path = prefix + (element,)
        if not sub:
            paths.add(path)
        else:
            paths |= from_fieldsv1(sub, path)
    return paths


def path_text(path):
    """A path as conflict messages print it: .status.devices[device="d",driver="x",pool="p"].networkData."""
    out = ""
    for element in path:
        if element.startswith("f:"):
            out += "." + element[2:]
        else:
            key = _item_key(element)
            out += "[" + ",".join('%s=%s' % (k, json.dumps(key[k])) for k in sorted(key)) + "]"
    return out


class Conflict(Exception):
    def __init__(self, conflicts):
        super().__init__("conflicts")
        self.conflicts = conflicts  # [(manager, path)]


def apply(current, applied, manager, entries, schema, required_keys, force, subresource, api_version, now):
    """Applies `applied` (the part of the object the subresource may change) as `manager`.
    `entries` are the stored managedFields. Returns (object, managedFields); raises Conflict,
    or KeyError_ for an item without its key fields."""
    applied_set = field_paths(applied, schema, required_keys)
    sets = [(e, from_fieldsv1(e.get("fieldsV1"))) for e in entries]
    mine = lambda e: e.get("manager") == manager and e.get("operation") == "Apply" and e.get("subresource", "") == subresource
    previous = next((s for e, s in sets if mine(e)), set())
    others = [(e, s) for e, s in sets if not mine(e)]

    conflicts = []
    for path in sorted(applied_set):
        found, stored = value_at(current, path, schema)
        _, new = value_at(applied, path, schema)
        if path[-1].startswith("k:") or (found and stored == new):
            continue
        for entry, owned in others:
            if path in owned:
                if force:
                    owned.discard(path)
                else:
                    conflicts.append((entry.get("manager", ""), path))
    if conflicts:
        raise Conflict(conflicts)

    result = merge(current, applied, schema)
    for path in disowned(previous - applied_set, set().union(*(s for _, s in others)) if others else set()):
        remove_path(result, path, schema)

    managed = []
    for entry, owned in others:
        if owned:
            kept = dict(entry)
            kept["fieldsV1"] = to_fieldsv1(owned)
            managed.append(kept)
    if applied_set:
        entry = {"manager": manager, "operation": "Apply", "apiVersion": api_version, "time": now,
                 "fieldsType": "FieldsV1", "fieldsV1": to_fieldsv1(applied_set)}
        if subresource:
            entry["subresource"] = subresource
        managed.append(entry)
    return result, managed
