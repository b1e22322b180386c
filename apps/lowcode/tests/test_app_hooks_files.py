"""Each app's hooks.py names every hook once: a second assignment of the same name (two
branches each adding a ``doctype_js``, say) would silently drop the first one's entries."""
import ast
import glob
import os

APPS = os.path.join(os.path.dirname(__file__), "..", "..")


def test_no_hook_is_assigned_twice():
    files = sorted(glob.glob(os.path.join(APPS, "*", "hooks.py")))
    assert len(files) >= 3
    twice = []
    for path in files:
        seen = {}
        for node in ast.parse(open(path, encoding="utf-8").read()).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Name):
                    if target.id in seen:
                        twice.append((os.path.basename(os.path.dirname(path)), target.id, seen[target.id], node.lineno))
                    seen[target.id] = node.lineno
    assert not twice, twice
