"""Load and validate the content files: values, questions, prompts, holidays.

Every problem is reported as `file: item: rule` so that HR can find and fix it; nothing
malformed may reach Telegram, so Telegram's own limits are part of the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTENT = Path(__file__).resolve().parent

# Telegram's limits (Bot API sendPoll and sendMessage).
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 100
EXPLANATION_MAX = 200
EXPLANATION_LINE_FEEDS = 2
SCENE_MAX = 1000  # well inside a 4096-character message, short enough to read on a phone
PROMPT_MAX = 500
OPTIONS_MIN, OPTIONS_MAX = 3, 4
KINDS = ("scenario", "guideline", "recall")
ID_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,12}$")


@dataclass(frozen=True)
class Guideline:
    code: str
    value: str
    letter: str
    text: str
    explanation: str
    example: str
    source: str


@dataclass(frozen=True)
class Value:
    code: str
    name: str
    definition: str
    summary: str
    source: str
    guidelines: tuple[Guideline, ...]


@dataclass(frozen=True)
class Question:
    id: str
    value: str
    guideline: str
    difficulty: int
    kind: str
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    scene: str | None = None
    source: str = "bank"
    # A two-step case: the id of the soal sent right after this one is answered (YAML key
    # `then`). That follow-up is never chosen on its own.
    follow_up: str | None = None


@dataclass(frozen=True)
class Prompt:
    id: str
    value: str
    guideline: str
    text: str


@dataclass(frozen=True)
class Holiday:
    date: date
    name: str
    kind: str


@dataclass(frozen=True)
class Problem:
    file: str
    item: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item}: {self.rule}"


@dataclass
class Content:
    values: list[Value] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    holidays: list[Holiday] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def value_codes(self) -> set[str]:
        return {v.code for v in self.values}

    @property
    def guideline_codes(self) -> dict[str, str]:
        return {g.code: v.code for v in self.values for g in v.guidelines}

    def guideline(self, code: str) -> Guideline | None:
        return next((g for v in self.values for g in v.guidelines if g.code == code), None)

    def value(self, code: str) -> Value | None:
        return next((v for v in self.values if v.code == code), None)


def _read_yaml(path: Path, problems: list[Problem], root: Path) -> Any:
    name = _rel(path, root)
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        problems.append(Problem(name, "-", "file is missing"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(Problem(name, "-", f"not valid YAML: {str(exc).splitlines()[0]}"))
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def line_feeds(text: str) -> int:
    return text.count("\n")


# A flat list of independent field rules: one branch each, nothing nested to pull apart.
def check_question_fields(raw: dict[str, Any], guideline_codes: dict[str, str]) -> list[str]:  # noqa: C901
    """Rules for one quiz item, shared by the YAML bank and the HR spreadsheet import.

    The messages are for HR, in Indonesian: what is wrong and what to do.
    """
    errors: list[str] = []
    qid = str(raw.get("id") or "")
    values = set(guideline_codes.values())
    if not ID_RE.match(qid):
        errors.append("id harus berbentuk BP-001 (kode nilai, '-', lalu huruf/angka)")
    value = raw.get("value")
    guideline = raw.get("guideline")
    if value not in values:
        errors.append(f"kode nilai {value!r} tidak dikenal (pakai BP, AK, KO, HA, LO, AD, KL)")
    if guideline not in guideline_codes:
        errors.append(f"kode panduan {guideline!r} tidak dikenal (mis. BP1, BP2, BP3)")
    elif value in values and guideline_codes[guideline] != value:
        errors.append(f"panduan {guideline} bukan milik nilai {value}")
    if value in values and ID_RE.match(qid) and not qid.startswith(f"{value}-"):
        errors.append(f"id {qid} harus diawali kode nilainya, {value}-")
    difficulty = raw.get("difficulty")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 3:
        errors.append("difficulty harus 1, 2 atau 3")
    if raw.get("kind") not in KINDS:
        errors.append("kind harus scenario, guideline atau recall")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        errors.append("pertanyaan kosong: isi kolom question")
    elif len(question) > POLL_QUESTION_MAX:
        errors.append(
            f"pertanyaan {len(question)} karakter; kuis Telegram maksimal {POLL_QUESTION_MAX}"
        )
    options = raw.get("options")
    if not isinstance(options, list) or not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
        errors.append(f"isi {OPTIONS_MIN} atau {OPTIONS_MAX} pilihan jawaban")
        options = options if isinstance(options, list) else []
    for number, option in enumerate(options, start=1):
        if not isinstance(option, str) or not option.strip():
            errors.append(f"pilihan {number} kosong")
        elif len(option) > POLL_OPTION_MAX:
            errors.append(
                f"pilihan {number} {len(option)} karakter; Telegram maksimal {POLL_OPTION_MAX}"
            )
    texts = [o.strip().lower() for o in options if isinstance(o, str)]
    if len(set(texts)) != len(texts):
        errors.append("dua pilihan jawaban sama persis; bedakan isinya")
    correct = raw.get("correct")
    if not isinstance(correct, int) or isinstance(correct, bool):
        errors.append("jawaban benar harus tepat satu nomor pilihan")
    elif not 0 <= correct < max(len(options), 1):
        errors.append(f"jawaban benar nomor {correct + 1} tidak ada di pilihan")
    explanation = raw.get("explanation")
    if not isinstance(explanation, str) or not explanation.strip():
        errors.append("alasan kosong: isi kolom explanation")
    else:
        if len(explanation) > EXPLANATION_MAX:
            errors.append(
                f"alasan {len(explanation)} karakter; Telegram maksimal {EXPLANATION_MAX}"
            )
        if line_feeds(explanation) > EXPLANATION_LINE_FEEDS:
            errors.append(f"alasan berisi lebih dari {EXPLANATION_LINE_FEEDS} baris baru")
    scene = raw.get("scene")
    if scene is not None and (not isinstance(scene, str) or len(scene) > SCENE_MAX):
        errors.append(f"cerita (scene) maksimal {SCENE_MAX} karakter")
    then = raw.get("then")
    if then is not None and (not isinstance(then, str) or not ID_RE.match(then)):
        errors.append("then (soal lanjutan) harus id soal lain, mis. AK-049, atau dikosongkan")
    elif then is not None and then == qid:
        errors.append("then (soal lanjutan) tidak boleh soal ini sendiri")
    return errors


def link_problems(links: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Two-step cases over a whole set of soal (id -> its follow-up's id, or None): the
    follow-up exists, is not a first step itself (a case has two steps, not a chain), and
    follows one soal only. Problems by the id of each soal involved, for HR."""
    problems: dict[str, list[str]] = {}
    namers: dict[str, list[str]] = {}
    for qid in sorted(links):
        then = links[qid]
        if then is None or then == qid:
            continue  # no link, or refused by check_question_fields already
        namers.setdefault(then, []).append(qid)
        if then not in links:
            problems.setdefault(qid, []).append(f"soal lanjutan {then} (then) tidak ada")
        elif (further := links[then]) is not None:
            problems.setdefault(qid, []).append(
                f"soal lanjutan {then} sendiri punya lanjutan ({further}); "
                "kasus dua langkah hanya dua soal"
            )
            problems.setdefault(then, []).append(
                f"soal ini lanjutan dari {qid}, jadi tidak boleh punya lanjutan ({further}); "
                "kasus dua langkah hanya dua soal"
            )
    for then, ids in namers.items():
        if len(ids) > 1:
            for qid in ids:
                others = ", ".join(i for i in ids if i != qid)
                problems.setdefault(qid, []).append(
                    f"soal lanjutan {then} juga menjadi lanjutan {others}; "
                    "satu soal lanjutan hanya untuk satu soal"
                )
    return problems


def question_from(raw: dict[str, Any], source: str = "bank") -> Question:
    scene = raw.get("scene")
    return Question(
        id=str(raw["id"]),
        value=str(raw["value"]),
        guideline=str(raw["guideline"]),
        difficulty=int(raw["difficulty"]),
        kind=str(raw["kind"]),
        question=str(raw["question"]).strip(),
        options=tuple(str(o).strip() for o in raw["options"]),
        correct=int(raw["correct"]),
        explanation=str(raw["explanation"]).strip(),
        scene=str(scene).strip() if scene else None,
        source=source,
        follow_up=str(raw["then"]) if raw.get("then") else None,
    )


def load_content(root: Path = CONTENT) -> Content:
    """Read everything; collect every problem instead of stopping at the first."""
    content = Content()
    problems = content.problems
    _load_values(root, content)
    guideline_codes = content.guideline_codes
    seen: dict[str, str] = {}
    for path in sorted((root / "questions").glob("*.yaml")):
        name = _rel(path, root)
        items = _read_yaml(path, problems, root)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(Problem(name, "-", "expected a list of questions"))
            continue
        for index, raw in enumerate(items, start=1):
            label = f"item {index}"
            if not isinstance(raw, dict):
                problems.append(Problem(name, label, "expected a mapping of fields"))
                continue
            label = str(raw.get("id") or label)
            errors = check_question_fields(raw, guideline_codes)
            qid = str(raw.get("id") or "")
            if qid in seen:
                errors.append(f"id ganda (juga ada di {seen[qid]})")
            seen[qid] = name
            problems.extend(Problem(name, label, e) for e in errors)
            if not errors:
                content.questions.append(question_from(raw))
    links = {q.id: q.follow_up for q in content.questions}
    for qid, errors in link_problems(links).items():
        problems.extend(Problem(seen[qid], qid, e) for e in errors)
    _load_prompts(root, content)
    _load_holidays(root, content)
    return content


def _load_values(root: Path, content: Content) -> None:
    path = root / "values.yaml"
    name = _rel(path, root)
    data = _read_yaml(path, content.problems, root)
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        if data is not None:
            content.problems.append(Problem(name, "-", "expected a 'values' list"))
        return
    for raw in data["values"]:
        try:
            guidelines = tuple(
                Guideline(
                    code=g["code"],
                    value=raw["code"],
                    letter=g["letter"],
                    text=g["text"],
                    explanation=g["explanation"],
                    example=g["example"],
                    source=g.get("source", raw.get("source", "")),
                )
                for g in raw["guidelines"]
            )
            content.values.append(
                Value(
                    code=raw["code"],
                    name=raw["name"],
                    definition=raw["definition"],
                    summary=raw.get("summary", ""),
                    source=raw.get("source", data.get("source", "")),
                    guidelines=guidelines,
                )
            )
        except (KeyError, TypeError) as exc:
            content.problems.append(
                Problem(name, str(raw.get("code", "?")), f"missing field {exc}")
            )
    if len(content.values) != 7:
        content.problems.append(Problem(name, "-", "expected the seven BerAKHLAK values"))
    for value in content.values:
        if len(value.guidelines) != 3:
            content.problems.append(Problem(name, value.code, "expected three guidelines"))


def _load_prompts(root: Path, content: Content) -> None:
    path = root / "prompts.yaml"
    name = _rel(path, root)
    items = _read_yaml(path, content.problems, root)
    if not isinstance(items, list):
        if items is not None:
            content.problems.append(Problem(name, "-", "expected a list of prompts"))
        return
    seen: set[str] = set()
    codes = content.guideline_codes
    for index, raw in enumerate(items, start=1):
        label = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else f"item {index}"
        if not isinstance(raw, dict):
            content.problems.append(Problem(name, label, "expected a mapping of fields"))
            continue
        errors = []
        if label in seen:
            errors.append("duplicate id")
        seen.add(label)
        if raw.get("guideline") not in codes or codes[raw["guideline"]] != raw.get("value"):
            errors.append("unknown value or guideline code")
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > PROMPT_MAX:
            errors.append(f"text must be 1-{PROMPT_MAX} characters")
        content.problems.extend(Problem(name, label, e) for e in errors)
        if not errors and isinstance(text, str):
            content.prompts.append(
                Prompt(id=label, value=raw["value"], guideline=raw["guideline"], text=text.strip())
            )


def _load_holidays(root: Path, content: Content) -> None:
    path = root / "holidays.yaml"
    name = _rel(path, root)
    data = _read_yaml(path, content.problems, root)
    if data is None:
        return
    items = data.get("holidays") if isinstance(data, dict) else None
    if not isinstance(items, list):
        content.problems.append(Problem(name, "-", "expected a 'holidays' list"))
        return
    for index, raw in enumerate(items, start=1):
        day = raw.get("date") if isinstance(raw, dict) else None
        if not isinstance(day, date):
            content.problems.append(Problem(name, f"item {index}", "date must be YYYY-MM-DD"))
            continue
        kind = raw.get("kind", "libur_nasional")
        if kind not in ("libur_nasional", "cuti_bersama"):
            content.problems.append(
                Problem(name, str(day), "kind must be libur_nasional or cuti_bersama")
            )
            continue
        content.holidays.append(Holiday(date=day, name=str(raw.get("name", "")), kind=kind))


@cache
def shipped_content() -> Content:
    """The content shipped in this package, read once per process."""
    return load_content(CONTENT)


def counts(questions: Iterable[Question]) -> dict[str, dict[str, int]]:
    """Items per value, guideline, kind and difficulty (for the check report and tests)."""
    result: dict[str, dict[str, int]] = {"value": {}, "guideline": {}, "kind": {}, "difficulty": {}}
    for q in questions:
        for key, item in (
            ("value", q.value),
            ("guideline", q.guideline),
            ("kind", q.kind),
            ("difficulty", str(q.difficulty)),
        ):
            result[key][item] = result[key].get(item, 0) + 1
    return result
