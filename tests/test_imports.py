"""The package's shape: no import circle (imports inside functions included), the rules import one way, one of each
rule helper, and importing the model layer or the rules stays light (no Data-Juicer)."""

import ast
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

PACKAGES = {"mindgym_ops": ROOT / "mindgym_ops", "mindgym_train": ROOT / "train"}
RULES_ORDER = ["words", "questions", "seeds", "answers", "drafts", "checks", "material"]


def modules():
    """{module name: path} for every module of the packages."""
    found = {}
    for name, root in PACKAGES.items():
        for path in root.rglob("*.py"):
            parts = [name] + list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def import_graph():
    """{module: the modules of the packages it imports}, from the source: every import statement, at any depth (a
    function's own imports included), `from . import x` counted as an import of the module x."""
    mods = modules()
    graph = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([node.module] if node.module else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
                targets = subs + ([base] if len(subs) < len(node.names) else [])
            else:
                continue
            for target in targets:
                while target not in mods and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in mods and target != mod:
                    graph[mod].add(target)
    return graph


def cycles(graph):
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_circle_anywhere_in_the_package():
    graph = import_graph()
    assert len(graph) > 50 and "mindgym_ops.rules.words" in graph["mindgym_ops.rules.questions"]
    assert cycles(graph) == []
    # the check sees a circle hidden in a function's import (as substance -> drafts -> substance was)
    graph["mindgym_ops.rules.words"] = graph["mindgym_ops.rules.words"] | {"mindgym_ops.rules.checks"}
    assert cycles(graph)


def test_the_rules_import_one_way_words_questions_seeds_then_the_rest():
    graph = import_graph()
    for i, name in enumerate(RULES_ORDER):
        below = {f"mindgym_ops.rules.{n}" for n in RULES_ORDER[:i]}
        imported = {m for m in graph[f"mindgym_ops.rules.{name}"]}
        assert imported <= below, f"rules.{name} imports {sorted(imported - below)}"
    # nothing in the rules reaches up into the ops, the model layer or the report
    assert all(m.startswith("mindgym_ops.rules.") for n in RULES_ORDER for m in graph[f"mindgym_ops.rules.{n}"])


def test_one_of_each_rule_helper():
    """One stemmer, one number reader, one normaliser, one answer-head splitter: defined once, in rules.words."""
    helpers = {"stem", "normalise", "numbers", "answer_head", "answer_core", "content_terms", "same_number", "_norm"}
    defined = {}
    for mod, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in helpers:
                defined.setdefault(node.name, []).append(mod)
    assert defined == {
        n: ["mindgym_ops.rules.words"] for n in ("stem", "normalise", "numbers", "answer_head", "same_number")
    }


def test_importing_the_model_layer_and_the_rules_stays_light():
    code = (
        "import sys, mindgym_ops.llm, mindgym_ops.rules.checks; "
        "print(sorted(m for m in ('data_juicer', 'torch', 'transformers', 'llama_cpp', 'vllm') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(Path("/")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
