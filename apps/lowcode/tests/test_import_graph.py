"""The engine core imports in one direction: no cycle among its modules, counting the
imports inside functions too (a function-local import that only dodges a cycle is still
a cycle: the modules cannot be understood, or loaded, one without the other).

The order, lowest first: signals, caches, params <- apps <- fields (the field types; a
package is one node) <- meta <- schema, permissions <- query <- links <- document <- rename,
workflow."""
import ast
import os

import lowcode

ROOT = os.path.dirname(lowcode.__file__)
CORE = ("meta", "apps", "document", "query", "permissions", "schema", "links", "rename", "signals",
        "caches", "naming", "versions", "params", "workflow", "fields")


def _sources(module):
    """(path, depth below lowcode) of a module's files: one file, or every file of a
    package (a package is one node: what any of its modules imports, it imports)."""
    path = os.path.join(ROOT, module)
    if os.path.isfile(path + ".py"):
        return [(path + ".py", 0)]
    found = []
    for folder, _dirs, files in os.walk(path):
        depth = os.path.relpath(folder, ROOT).count(os.sep) + 1
        found += [(os.path.join(folder, f), depth) for f in files if f.endswith(".py")]
    return found


def imported_modules(module):
    """Every lowcode module ``lowcode.<module>`` imports, at module level or in a function."""
    found = set()
    for path, depth in _sources(module):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level == depth + 1:  # from .x import y / from . import x, relative to lowcode
                    base = node.module
                    found |= {base.split(".")[0]} if base else {a.name for a in node.names}
                elif 0 < node.level <= depth:  # inside the package itself
                    found.add(module)
                elif node.level == 0 and (node.module or "").startswith("lowcode."):
                    found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("lowcode.")}
    return found


def find_cycle(graph):
    """One cycle as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path + [nxt])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def core_graph():
    return {m: imported_modules(m) & set(CORE) - {m} for m in CORE}


def test_the_core_modules_import_each_other_without_cycles():
    cycle = find_cycle(core_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_a_cycle_through_a_function_local_import():
    # the checker itself: a cycle made of one module-level and one nested import
    graph = core_graph()
    graph["meta"] = graph["meta"] | {"document"}
    assert find_cycle(graph) is not None
    assert "apps" in imported_modules("links")  # module level
    assert "caches" in imported_modules("meta")  # inside a function
    assert {"apps", "context"} & imported_modules("fields")  # a package: its modules' imports, relative ones too
    graph["fields"] = graph["fields"] | {"meta"}  # what fields/links.py once did inside a function
    assert find_cycle(core_graph() | {"fields": graph["fields"]}) is not None
