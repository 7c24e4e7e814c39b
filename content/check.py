"""`berakhlak content check`: the content files and every template, against Telegram's rules."""

from __future__ import annotations

from pathlib import Path

from bot.core.render import LANGUAGES, Renderer
from bot.core.telegram_text import TextRuleError, parse_html, utf16_len
from content.loader import CONTENT, Content, Problem, load_content
from content.samples import samples_for

MESSAGE_MAX = 4096
COMMAND_DESCRIPTION_MAX = 256
LABEL_MAX = 200  # callback notices are capped at 200; buttons should be far shorter


def check_templates(renderer: Renderer) -> list[Problem]:
    """Render each template in each language with hostile data; parse it as Telegram would."""
    problems: list[Problem] = []
    for name in renderer.names():
        for lang in LANGUAGES:
            file = f"content/templates/{lang}/{name}.html"
            if not (renderer.directory / lang / f"{name}.html").exists():
                problems.append(Problem(file, name, "template is missing in this language"))
                continue
            for index, context in enumerate(samples_for(name), start=1):
                label = f"{name} (sample {index})"
                try:
                    text = renderer.text(name, lang, **context)
                except Exception as exc:
                    problems.append(Problem(file, label, f"does not render: {exc}"))
                    continue
                try:
                    plain, _ = parse_html(text)
                except TextRuleError as exc:
                    problems.append(Problem(file, label, exc.description))
                    continue
                if not plain.strip():
                    problems.append(Problem(file, label, "renders to an empty message"))
                elif utf16_len(plain) > MESSAGE_MAX:
                    problems.append(
                        Problem(file, label, f"longer than Telegram's {MESSAGE_MAX} characters")
                    )
    for lang in LANGUAGES:
        file = f"content/templates/{lang}/labels.yaml"
        missing = set(renderer.label_keys("id")) - set(renderer.label_keys(lang))
        problems += [Problem(file, key, "label is missing") for key in sorted(missing)]
        for key in renderer.label_keys(lang):
            label = renderer.label(key, lang)
            if key.startswith("cmd_") and not 1 <= len(label) <= COMMAND_DESCRIPTION_MAX:
                problems.append(Problem(file, key, "command description must be 1-256 characters"))
            elif not label.strip() or len(label) > LABEL_MAX:
                problems.append(Problem(file, key, f"label must be 1-{LABEL_MAX} characters"))
    return problems


def check_all(root: Path = CONTENT) -> tuple[Content, list[Problem]]:
    content = load_content(root)
    problems = list(content.problems)
    problems += check_templates(Renderer(root / "templates"))
    return content, problems
