"""Prompt templates as package data: `<language>/<name>.j2`, loaded by name.

A recipe overrides a template with a path to a file or with inline Jinja text. Every template
is checked at op init: a variable the op does not provide fails loudly then, not mid-run."""

import os
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional

import jinja2
from jinja2 import meta

_HERE = os.path.dirname(os.path.abspath(__file__))
_VERSION = re.compile(r"\{#\s*version:\s*([\w.\-]+)\s*#\}")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@dataclass
class Template:
    name: str
    version: str
    source: str  # where it came from: "builtin" or the override path / "inline"
    text: str
    _compiled: Optional[jinja2.Template] = field(default=None, repr=False, compare=False)

    def render(self, **variables) -> str:
        if self._compiled is None:
            self._compiled = _ENV.from_string(self.text)
        return self._compiled.render(**variables).strip()

    def __getstate__(self):
        # compiled jinja templates do not pickle; worker processes recompile from the text
        return {**self.__dict__, "_compiled": None}

    def provenance(self) -> str:
        return f"{self.name}@{self.version}" + ("" if self.source == "builtin" else f" ({self.source})")


def available(language: str) -> Iterable[str]:
    return sorted(f[:-3] for f in os.listdir(os.path.join(_HERE, language)) if f.endswith(".j2"))


def load_template(name: str, language: str, provided: Iterable[str], override: Optional[str] = None) -> Template:
    """Load `name` for `language` (or the override) and check it only uses `provided` variables."""
    if override:
        if os.path.isfile(override):
            with open(override, encoding="utf-8") as f:
                text, source = f.read(), override
        else:
            text, source = override, "inline"
    else:
        path = os.path.join(_HERE, language, f"{name}.j2")
        if not os.path.isfile(path):
            raise ValueError(f"no prompt template {name!r} for language {language!r}; have {list(available(language))}")
        with open(path, encoding="utf-8") as f:
            text, source = f.read(), "builtin"
    try:
        ast = _ENV.parse(text)
    except jinja2.TemplateSyntaxError as e:
        raise ValueError(f"prompt template {name!r} ({source}) has a syntax error: {e.message}") from None
    missing = meta.find_undeclared_variables(ast) - set(provided)
    if missing:
        raise ValueError(
            f"prompt template {name!r} ({source}) uses undefined variables {sorted(missing)}; "
            f"available: {sorted(provided)}"
        )
    m = _VERSION.search(text)
    return Template(name, m.group(1) if m else "custom", source, text)


def load_templates(
    language: str, spec: Dict[str, Iterable[str]], overrides: Optional[Dict[str, str]]
) -> Dict[str, Template]:
    """Load several templates at once; unknown override names are an error."""
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(spec)
    if unknown:
        raise ValueError(f"prompt_templates has unknown names {sorted(unknown)}; this op uses {sorted(spec)}")
    return {n: load_template(n, language, provided, overrides.get(n)) for n, provided in spec.items()}
