"""All user-facing text: Jinja2 templates and button labels from content/templates."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    pass_context,
)
from jinja2.runtime import Context

from bot.core import numbers
from bot.core.config import Settings
from content.loader import CONTENT

TEMPLATES = CONTENT / "templates"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


class Renderer:
    """Renders `<lang>/<name>.html` with HTML autoescaping; falls back to Indonesian."""

    def __init__(self, directory: Path = TEMPLATES, *, instansi: str | None = None) -> None:
        self.directory = directory
        self.env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["mask_nip"] = mask_nip
        self.env.filters["local"] = local_time
        self.env.filters["num"] = _number
        self.env.filters["clock"] = _clock
        # Every template may name the instansi (INSTANSI_NAME); the setting's default until
        # the application sets its own.
        self.env.globals["instansi"] = instansi or Settings.model_fields["instansi_name"].default
        self._labels = {lang: self._load_labels(lang) for lang in LANGUAGES}
        # Compile every template now, so that no handler reads a file on the event loop.
        for lang in LANGUAGES:
            for path in sorted((directory / lang).glob("*.html")):
                # A broken template is left for `content check` to report by name.
                with contextlib.suppress(TemplateError):
                    self.env.get_template(f"{lang}/{path.name}")

    def _load_labels(self, lang: str) -> dict[str, str]:
        # labels.yaml, then one file per feature with many labels (labels_report.yaml).
        out: dict[str, str] = {}
        for path in sorted((self.directory / lang).glob("labels*.yaml")):
            data = yaml.safe_load(path.read_text("utf-8")) or {}
            out.update({str(k): str(v) for k, v in data.items()})
        return out

    def text(self, name: str, lang: str = DEFAULT_LANGUAGE, /, **context: Any) -> str:
        lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        try:
            template = self.env.get_template(f"{lang}/{name}.html")
        except TemplateNotFound:
            template = self.env.get_template(f"{DEFAULT_LANGUAGE}/{name}.html")
        return template.render(lang=lang, **context).strip()

    def label(self, key: str, lang: str = DEFAULT_LANGUAGE, /, **context: Any) -> str:
        """A button label or a short callback notice: plain text, never parsed as HTML."""
        lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        raw = self._labels.get(lang, {}).get(key) or self._labels[DEFAULT_LANGUAGE][key]
        if context:
            # Labels are not HTML, so they are rendered without escaping.
            return Environment(undefined=StrictUndefined).from_string(raw).render(**context)
        return raw

    def names(self) -> list[str]:
        return sorted(
            p.stem for p in (self.directory / DEFAULT_LANGUAGE).glob("*.html") if p.is_file()
        )

    def label_keys(self, lang: str = DEFAULT_LANGUAGE) -> list[str]:
        return sorted(self._labels.get(lang, {}))


def _language(context: Context) -> str:
    # Templates live in <lang>/<name>.html: the number follows the text's language.
    name = context.name or ""
    return name.split("/", 1)[0] if "/" in name else DEFAULT_LANGUAGE


@pass_context
def _number(context: Context, value: float, digits: int = 0) -> str:
    return numbers.number(value, digits, _language(context))


@pass_context
def _clock(context: Context, value: str) -> str:
    return numbers.clock(value, _language(context))


def local_time(value: datetime, tz: str, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """A stored (UTC) time as the reader's wall clock."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


@cache
def default_renderer() -> Renderer:
    return Renderer()


def renderer_for(instansi: str) -> Renderer:
    """The shared, compiled renderer when the instansi is the default; its own otherwise."""
    shared = default_renderer()
    return shared if shared.env.globals["instansi"] == instansi else Renderer(instansi=instansi)


def mask_nip(nip: str | None) -> str:
    """`1986********0001`: enough to recognise one's own number, not to read a birth date."""
    if not nip:
        return ""
    return nip[:4] + "*" * (len(nip) - 8) + nip[-4:]
