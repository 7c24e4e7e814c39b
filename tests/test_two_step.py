"""Two-step cases in the content: the `then` link, its validation, the count the content
check enforces, question choice leaving follow-ups out, and the spreadsheet's column."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from bot.quiz.pool import pool_of
from content.check import TWO_STEP_MIN, check_counts, two_step_cases
from content.loader import CONTENT, load_content, question_from
from content.xlsx import COLUMNS, SheetRejected, export_bytes, parse_sheet

SHIPPED = load_content()
PAIRS = {
    "AK-019": "AK-049",
    "AK-022": "AK-050",
    "LO-023": "LO-041",
    "HA-022": "HA-041",
    "BP-011": "BP-041",
    "KL-010": "KL-041",
    "KO-016": "KO-041",
    "AD-019": "AD-041",
    "LO-030": "LO-042",
    "HA-010": "HA-042",
}


def test_the_ten_kasus_lanjutan_are_true_two_step_cases() -> None:
    bank = {q.id: q for q in SHIPPED.questions}
    links = {q.id: q.follow_up for q in SHIPPED.questions if q.follow_up}
    assert links == PAIRS
    assert two_step_cases(SHIPPED.questions) >= TWO_STEP_MIN
    for first, follow in PAIRS.items():
        # The intro line before the poll says the case continues; the scene need not.
        scene = bank[follow].scene or ""
        assert not scene.startswith("Kasus lanjutan"), follow
        assert bank[follow].follow_up is None and first not in links.values()


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def _link(root: Path, file: str, qid: str, then: object) -> None:
    path = root / "questions" / file
    items = yaml.safe_load(path.read_text("utf-8"))
    [item] = [i for i in items if i["id"] == qid]
    item["then"] = then
    path.write_text(yaml.safe_dump(items, allow_unicode=True), "utf-8")


@pytest.mark.parametrize(
    ("file", "qid", "then", "rule"),
    [
        ("BP.yaml", "BP-001", "BP-999", "BP-001: soal lanjutan BP-999 (then) tidak ada"),
        ("BP.yaml", "BP-001", "BP-001", "BP-001: then (soal lanjutan) tidak boleh soal ini"),
        ("BP.yaml", "BP-001", "lanjut", "BP-001: then (soal lanjutan) harus id soal lain"),
        ("BP.yaml", "BP-001", 7, "BP-001: then (soal lanjutan) harus id soal lain"),
        # A chain: BP-041 follows BP-011 and would have a follow-up of its own.
        ("BP.yaml", "BP-041", "BP-002", "BP-011: soal lanjutan BP-041 sendiri punya lanjutan"),
        ("BP.yaml", "BP-041", "BP-002", "BP-041: soal ini lanjutan dari BP-011"),
        # The first step of one case as the follow-up of another.
        ("BP.yaml", "BP-001", "BP-011", "BP-001: soal lanjutan BP-011 sendiri punya lanjutan"),
        # One follow-up for two first steps (across files and values is allowed otherwise).
        ("AK.yaml", "AK-001", "BP-041", "AK-001: soal lanjutan BP-041 juga menjadi lanjutan"),
        ("AK.yaml", "AK-001", "BP-041", "BP-011: soal lanjutan BP-041 juga menjadi lanjutan"),
    ],
)
def test_bad_links_are_refused_with_file_item_and_rule(
    broken: Path, file: str, qid: str, then: object, rule: str
) -> None:
    _link(broken, file, qid, then)
    messages = [str(p) for p in load_content(broken).problems]
    assert any(m.startswith("content/questions/") and rule in m for m in messages), messages


def test_a_follow_up_in_another_value_is_fine(broken: Path) -> None:
    _link(broken, "AK.yaml", "AK-001", "BP-002")
    content = load_content(broken)
    assert content.problems == []
    assert {q.id: q.follow_up for q in content.questions}["AK-001"] == "BP-002"


def test_the_content_check_wants_ten_two_step_cases() -> None:
    unlinked = [
        replace(q, follow_up=None) if q.id in ("AK-019", "AK-022") else q for q in SHIPPED.questions
    ]
    messages = [str(p) for p in check_counts(unlinked, SHIPPED.guideline_codes)]
    assert "content/questions: bank: 8 kasus dua langkah (soal dengan then); minimal 10" in messages
    assert check_counts(SHIPPED.questions, SHIPPED.guideline_codes) == []


def test_question_choice_never_takes_a_follow_up_on_its_own() -> None:
    play = pool_of(SHIPPED.questions, aside=set())
    candidates = {c.id for c in play.candidates}
    assert not candidates & set(PAIRS.values())
    assert set(PAIRS) <= candidates
    assert play.follow_ups == PAIRS
    # A first step set aside for review: its follow-up still never goes alone.
    play = pool_of(SHIPPED.questions, aside={"AK-019"})
    assert "AK-049" not in {c.id for c in play.candidates} and "AK-019" not in play.follow_ups
    # A follow-up set aside: its first step goes out as a single soal.
    play = pool_of(SHIPPED.questions, aside={"AK-049"})
    assert "AK-019" in {c.id for c in play.candidates} and "AK-019" not in play.follow_ups


ROW = {
    "value": "KL",
    "guideline": "KL2",
    "difficulty": 2,
    "kind": "scenario",
    "scene": "Tim kelurahan dan puskesmas merencanakan posyandu lansia bersama.",
    "question": "Apa langkah terbaik ketua tim?",
    "option_1": "Membagi tugas sendiri tanpa bertanya",
    "option_2": "Mengajak kedua pihak menyusun rencana bersama",
    "option_3": "Menyerahkan semuanya kepada puskesmas",
    "correct": 2,
    "explanation": "Kolaboratif: terbuka bekerja sama untuk nilai tambah.",
}


def _sheet(rows: list[dict[str, object]], columns: list[str] = COLUMNS) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c, "") for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _parse(data: bytes, stored: dict[str, str | None] | None = None) -> list:  # type: ignore[type-arg]
    reserved = frozenset(q.id for q in SHIPPED.questions)
    links = stored if stored is not None else {q.id: q.follow_up for q in SHIPPED.questions}
    return parse_sheet(data, SHIPPED.guideline_codes, reserved_ids=reserved, stored_links=links)


def test_a_sheet_carries_a_pair_and_reads_back_from_its_export() -> None:
    rows = [{**ROW, "id": "KL-H001", "then": "kl-h002"}, {**ROW, "id": "KL-H002"}]
    items = _parse(_sheet(rows))
    assert [(q.id, q.follow_up) for q in items] == [("KL-H001", "KL-H002"), ("KL-H002", None)]
    exported = export_bytes(items)
    sheet = load_workbook(io.BytesIO(exported)).active
    assert sheet is not None
    header = [c.value for c in next(sheet.iter_rows())]
    assert header == COLUMNS and header[-1] == "then"
    again = _parse(exported)
    assert [(q.id, q.follow_up) for q in again] == [("KL-H001", "KL-H002"), ("KL-H002", None)]


def test_a_sheet_made_before_the_then_column_still_imports() -> None:
    old = [c for c in COLUMNS if c != "then"]
    [item] = _parse(_sheet([{**ROW, "id": "KL-H001"}], columns=old))
    assert item.follow_up is None


@pytest.mark.parametrize(
    ("rows", "stored", "message"),
    [
        (
            [{**ROW, "id": "KL-H001", "then": "KL-H009"}],
            None,
            "Baris 2: Soal lanjutan KL-H009 (then) tidak ada.",
        ),
        (
            [{**ROW, "id": "KL-H001", "then": "KL-001"}],
            None,
            "Baris 2: Soal lanjutan KL-001 milik bank soal bawaan; lanjutan soal HR harus soal HR",
        ),
        (
            # KL-H005 is already stored as the follow-up of KL-H004.
            [{**ROW, "id": "KL-H001", "then": "KL-H005"}],
            {"KL-H004": "KL-H005", "KL-H005": None},
            "Baris 2: Soal lanjutan KL-H005 juga menjadi lanjutan KL-H004",
        ),
        (
            # A stored follow-up given a follow-up of its own: a chain.
            [{**ROW, "id": "KL-H005", "then": "KL-H006"}, {**ROW, "id": "KL-H006"}],
            {"KL-H004": "KL-H005", "KL-H005": None},
            "Baris 2: Soal ini lanjutan dari KL-H004, jadi tidak boleh punya lanjutan",
        ),
        (
            [{**ROW, "id": "KL-H001", "then": "Soal berikut"}],
            None,
            "Baris 2: Then (soal lanjutan) harus id soal lain",
        ),
    ],
)
def test_a_sheet_with_a_bad_link_is_refused_whole(
    rows: list[dict[str, object]], stored: dict[str, str | None] | None, message: str
) -> None:
    with pytest.raises(SheetRejected) as rejected:
        _parse(_sheet(rows), stored)
    assert any(str(e).startswith(message) for e in rejected.value.errors), rejected.value.errors


def test_yaml_then_becomes_the_question_follow_up() -> None:
    raw = {**{k: v for k, v in ROW.items() if not k.startswith("option")}, "id": "KL-900"}
    raw.update(options=["a", "b", "c"], correct=1, then="KL-901")
    assert question_from(raw).follow_up == "KL-901"
