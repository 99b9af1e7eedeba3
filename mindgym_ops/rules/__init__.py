"""The rules that carry substance, model-free, in every language the recipes ship (en, zh).

Imports go one way only: `words` (words and numbers) <- `questions` (what a question asks) <- `seeds` (what the
seed answers imply) <- `answers` (the solver's rule), `drafts` (worked draft questions), `checks` (is a multi-hop
reply real) and `material` (are backgrounds and seeds usable). tests/test_imports.py holds the package to it."""
