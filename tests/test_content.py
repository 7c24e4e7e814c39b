"""The shipped content: counts the issue promises, Telegram's limits, and precise failures."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.app.cli import main
from bot.core.render import LANGUAGES, Renderer
from content.check import (
    GUESS_LIMIT,
    REGION_GROUPS,
    REGION_SCENES_MIN,
    check_all,
    check_counts,
    check_examples,
    check_guessing,
    check_offices,
    check_regions,
    check_templates,
    guessing_rates,
    guessing_report,
    people_report,
    region_counts,
    scene_regions,
)
from content.loader import CONTENT, Question, counts, load_content
from content.samples import SAMPLES
from sandbox.formatting import parse_html, utf16_len

SHIPPED = load_content()


def test_shipped_content_has_no_problems() -> None:
    _, problems = check_all()
    assert problems == []


def test_bank_sizes_per_value_guideline_and_kind() -> None:
    tally = counts(SHIPPED.questions)
    total = len(SHIPPED.questions)
    assert total >= 280
    assert len(tally["value"]) == 7 and min(tally["value"].values()) >= 40
    assert len(tally["guideline"]) == 21 and min(tally["guideline"].values()) >= 10
    assert tally["kind"]["guideline"] >= 30  # "which guideline does this show / break?"
    hard = {
        v: sum(q.value == v and q.difficulty == 3 for q in SHIPPED.questions)
        for v in tally["value"]
    }
    assert min(hard.values()) >= 8
    assert check_counts(SHIPPED.questions) == []


def test_count_check_names_what_a_small_bank_lacks() -> None:
    small = [q for q in SHIPPED.questions if q.guideline != "KL3"][:200]
    messages = [str(p) for p in check_counts(small, SHIPPED.guideline_codes)]
    assert "content/questions: bank: 200 soal; minimal 280" in messages
    assert "content/questions: KL3: 0 soal; minimal 10 per panduan" in messages
    assert any(m.startswith("content/questions: KL: ") and "per nilai" in m for m in messages)
    recall_heavy = [*SHIPPED.questions, *[q for q in SHIPPED.questions if q.kind == "recall"] * 3]
    assert any("soal hafalan" in str(p) for p in check_counts(recall_heavy))


def test_every_item_fits_a_telegram_quiz() -> None:
    for q in SHIPPED.questions:
        assert 1 <= len(q.question) <= 300, q.id
        assert 3 <= len(q.options) <= 4, q.id
        assert all(1 <= len(o) <= 100 for o in q.options), q.id
        assert 0 <= q.correct < len(q.options), q.id
        assert len(q.explanation) <= 200 and q.explanation.count("\n") <= 2, q.id


def test_no_two_items_alike() -> None:
    questions = [(q.scene or "") + q.question for q in SHIPPED.questions]
    assert len(set(questions)) == len(questions)
    assert len({q.id for q in SHIPPED.questions}) == len(SHIPPED.questions)


def test_prompts_four_per_guideline_and_none_tied_to_the_week() -> None:
    per: dict[str, int] = {}
    for p in SHIPPED.prompts:
        per[p.guideline] = per.get(p.guideline, 0) + 1
    assert len(per) == 21 and set(per.values()) == {4}
    # Prompts go out on Monday mornings too, when "this week" has not happened yet.
    assert not [p.id for p in SHIPPED.prompts if "minggu ini" in p.text.lower()]


def test_values_carry_the_official_wording() -> None:
    bp = SHIPPED.value("BP")
    assert bp is not None and bp.definition.startswith("Komitmen memberikan pelayanan prima")
    assert bp.guidelines[0].text == "Memahami dan memenuhi kebutuhan masyarakat"
    assert all(g.explanation and g.example for v in SHIPPED.values for g in v.guidelines)


def test_holidays_cover_this_and_next_year() -> None:
    years = {h.date.year for h in SHIPPED.holidays}
    assert {2026, 2027} <= years


def test_every_template_renders_hostile_data_within_telegram_rules() -> None:
    renderer = Renderer()
    assert check_templates(renderer) == []
    for name in renderer.names():
        assert name in SAMPLES, f"no hostile sample for template {name}"
        for lang in LANGUAGES:
            for context in SAMPLES[name]:
                text = renderer.text(name, lang, **context)
                plain, _ = parse_html(text)  # raises like Telegram on broken HTML
                assert 0 < utf16_len(plain) <= 4096
                assert "<b>Tom" not in text  # user strings arrive escaped


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of content/ whose files we break one way per test."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def _break_item(root: Path, **changes: object) -> None:
    path = root / "questions" / "BP.yaml"
    items = yaml.safe_load(path.read_text("utf-8"))
    items[0].update(changes)
    path.write_text(yaml.safe_dump(items, allow_unicode=True), "utf-8")


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"question": "x" * 301}, "pertanyaan 301 karakter; kuis Telegram maksimal 300"),
        ({"options": ["a", "b", "c", "y" * 101]}, "pilihan 4 101 karakter"),
        ({"explanation": "z" * 201}, "alasan 201 karakter"),
        ({"explanation": "a\nb\nc\nd"}, "lebih dari 2 baris baru"),
        ({"correct": 7}, "jawaban benar nomor 8 tidak ada"),
        ({"correct": [0, 1]}, "jawaban benar harus tepat satu"),
        ({"guideline": "ZZ9"}, "kode panduan 'ZZ9' tidak dikenal"),
        ({"guideline": "AK1"}, "panduan AK1 bukan milik nilai BP"),
        ({"kind": "trivia"}, "kind harus scenario, guideline atau recall"),
        ({"options": ["a", "a", "b"]}, "dua pilihan jawaban sama"),
        ({"id": "BP-002"}, "id ganda"),
    ],
)
def test_check_names_file_item_and_rule(broken: Path, changes: dict, rule: str) -> None:
    _break_item(broken, **changes)
    content = load_content(broken)
    messages = [str(p) for p in content.problems]
    assert any(m.startswith("content/questions/BP.yaml: ") and rule in m for m in messages), (
        messages
    )


def test_broken_template_is_reported(broken: Path) -> None:
    (broken / "templates" / "id" / "welcome.html").write_text("Halo<br>{{ nama }}", "utf-8")
    problems = [str(p) for p in check_templates(Renderer(broken / "templates"))]
    assert any("welcome" in p and ("br" in p or "does not render" in p) for p in problems)


def test_cli_check_fails_with_status_and_report(
    broken: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import content.check as check

    _break_item(broken, question="")
    monkeypatch.setattr(check, "CONTENT", broken)
    monkeypatch.setattr(check.check_all, "__defaults__", (broken,))
    assert main(["content", "check"]) == 1
    err = capsys.readouterr().err
    assert "content/questions/BP.yaml: BP-001: pertanyaan kosong" in err


def test_cli_check_passes_on_shipped_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check"]) == 0
    out = capsys.readouterr().out
    assert "Content OK" in out
    # Who and where the scenes are about, with the counts the check enforces.
    assert "RSUD " in out and "sapaan laki-laki (Pak, Mas)" in out
    assert "daerah di luar Kediri: " in out and "6 gugus pulau" in out


def test_template_syntax_error_is_reported_not_raised(broken: Path) -> None:
    (broken / "templates" / "en" / "help.html").write_text("{% for x in %}", "utf-8")
    problems = [str(p) for p in check_templates(Renderer(broken / "templates"))]
    assert any("en/help.html" in p and "does not render" in p for p in problems)


def _scenario(qid: str, options: tuple[str, ...], correct: int, difficulty: int = 2) -> Question:
    return Question(
        id=qid,
        value="BP",
        guideline="BP1",
        difficulty=difficulty,
        kind="scenario",
        question="Apa yang sebaiknya dilakukan?",
        options=options,
        correct=correct,
        explanation="-",
        scene="-",
    )


def test_guessing_check_fails_a_bank_where_the_longest_option_wins() -> None:
    bank = [
        _scenario(
            f"BP-{n:03}",
            ("Pilihan a", "Pilihan b yang jauh lebih panjang dari yang lain", "Pilihan c", "Pil d"),
            correct=1,
            difficulty=1 + n % 3,
        )
        for n in range(12)
    ]
    rates = {r.strategy: r for r in guessing_rates(bank)}
    assert rates["longest option"].overall == 1.0
    problems = [str(p) for p in check_guessing(bank)]
    assert any("'longest option'" in p and "100%" in p for p in problems), problems


def test_guessing_check_fails_when_difficulty_3_is_easier_than_1() -> None:
    plain = ("Satu", "Dua", "Tiga", "Empat")
    bank = [_scenario(f"BP-{n:03}", plain, correct=n % 4, difficulty=1) for n in range(8)]
    # The key is the most complete option only on the hard items.
    complete = ("Satu", "Dua, lalu tiga dan empat", "Tiga", "Empat")
    bank += [_scenario(f"BP-1{n:02}", complete, correct=1, difficulty=3) for n in range(2)]
    problems = [str(p) for p in check_guessing(bank)]
    assert any("'most complete option'" in p and "tingkat 3" in p for p in problems), problems


def test_marker_words_and_connectives_are_counted_as_a_test_wise_reader_would() -> None:
    marked = _scenario("BP-900", ("Menunggu saja", "Melayani", "Langsung pulang"), correct=1)
    assert {r.strategy: r.overall for r in guessing_rates([marked])}["avoid marker words"] == 1.0
    tied = _scenario("BP-901", ("A dan b", "C lalu d", "E"), correct=0)
    assert {r.strategy: r.overall for r in guessing_rates([tied])}["most complete option"] == 0.5


def test_shipped_bank_cannot_be_gamed() -> None:
    assert check_guessing(SHIPPED.questions) == []
    rates = guessing_rates(SHIPPED.questions)
    assert {r.strategy for r in rates} >= {
        "longest option",
        "most complete option",
        "avoid marker words",
    }
    for rate in rates:
        assert rate.overall <= GUESS_LIMIT, rate
        # The check compares whole percent, as it reports them.
        assert round(100 * rate.by_difficulty[3]) <= round(100 * rate.by_difficulty[1]), rate
    assert len(guessing_report(SHIPPED.questions)) == len(rates)


def test_scenes_reach_the_offices_the_review_missed() -> None:
    assert check_offices(SHIPPED.questions) == []
    without_rsud = [q for q in SHIPPED.questions if "rsud" not in f"{q.scene} {q.question}".lower()]
    assert [str(p) for p in check_offices(without_rsud)] == [
        "content/questions: RSUD: 0 soal berlatar RSUD; minimal 5"
    ]


def test_scenes_name_people_and_places_from_every_island_group() -> None:
    assert check_regions(SHIPPED.questions) == []
    tally = region_counts(SHIPPED.questions)
    assert tally["total"] >= REGION_SCENES_MIN
    assert all(tally[group] >= 3 for group in REGION_GROUPS), tally
    # One group gone: the check names it.
    no_kalimantan = [
        replace(q, scene="Di loket kelurahan.") if "Kalimantan" in scene_regions(q) else q
        for q in SHIPPED.questions
    ]
    assert [str(p) for p in check_regions(no_kalimantan)] == [
        "content/questions: daerah: 5 gugus pulau disebut; minimal 6, belum ada Kalimantan"
    ]
    # A bank set in Kediri only fails on both counts.
    in_kediri = [replace(q, scene="Di loket kelurahan.") for q in SHIPPED.questions]
    assert [str(p) for p in check_regions(in_kediri)] == [
        "content/questions: daerah: 0 cerita menyebut daerah di luar Kediri; minimal 20",
        "content/questions: daerah: 0 gugus pulau disebut; minimal 6, belum ada Sumatra, "
        "Jawa di luar Kediri, Bali-Nusa Tenggara, Kalimantan, Sulawesi, Maluku-Papua",
    ]


def test_region_names_are_whole_proper_nouns() -> None:
    q = SHIPPED.questions[0]
    # "kembali" is not Bali, "malang" (unlucky) is not Malang, Bima is a given name here,
    # and bahasa Jawa is spoken in Kediri itself.
    local = replace(q, scene="Bima kembali ke loket; nasibnya malang. Ia berbahasa Jawa.")
    assert scene_regions(local) == {}
    away = replace(q, scene="Bu Ruth asal Manado dan Pak Made dari Bali, lalu ke Bandar Lampung.")
    assert scene_regions(away) == {
        "Sumatra": ["Lampung"],
        "Bali-Nusa Tenggara": ["Bali"],
        "Sulawesi": ["Manado"],
    }


def test_people_report_gives_the_gender_balance_of_honorifics() -> None:
    q = SHIPPED.questions[0]
    lines = people_report([replace(q, scene="Pak Eko (40), Bu Sri, Mbak Ani dan Mas Yudi.")])
    assert lines == [
        "usia disebut 1 kali, 40-40 tahun",
        "Pak 1, Bu 1, Mas 1, Mbak 1",
        "sapaan laki-laki (Pak, Mas) 2, perempuan (Bu, Mbak) 2: 50 % / 50 %",
    ]


def test_a_scene_that_retells_a_values_example_is_refused(broken: Path) -> None:
    assert check_examples(SHIPPED) == []
    example = SHIPPED.guideline("HA1")
    assert example is not None
    _break_item(broken, scene=example.example)
    messages = [str(p) for p in check_examples(load_content(broken))]
    assert messages == [
        "content/questions: BP-001: cerita terlalu mirip contoh panduan HA1 di values.yaml "
        "(yang tampil di pesan harian); pakai kejadian lain"
    ]


def test_the_instansi_is_a_setting_not_a_word_in_the_templates() -> None:
    from bot.core.render import Renderer

    renderer = Renderer(instansi="Pemerintah Provinsi Jawa Timur")
    for name in ("welcome", "group_help"):
        for lang in ("id", "en"):
            text = renderer.text(name, lang)
            assert "Pemerintah Provinsi Jawa Timur" in text and "Kediri" not in text
