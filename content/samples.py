"""Hostile sample data for rendering every template: HTML-looking text, ampersands,
300-character names and emoji. `berakhlak content check` and the tests render each
template with it and hold the output to Telegram's HTML and length rules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

HOSTILE = '<b>Tom & "Jerry"</b> 😀 &amp; </i>' + "Ω" * 40
LONG = ("Nama Sangat Panjang 👩‍💻 <i>&</i> " * 12)[:300]


@dataclass(frozen=True)
class SampleUnit:
    id: int = 1
    code: str = "DUKCAPIL-PD"
    name: str = LONG[:100]
    parent_id: int | None = 2
    parent_name: str | None = HOSTILE
    timezone: str = "Asia/Jakarta"
    group_chat_id: int | None = None


@dataclass(frozen=True)
class SampleMember:
    id: int = 1
    telegram_user_id: int = 5_000_000_001
    chat_id: int = 5_000_000_001
    full_name: str = LONG
    unit_id: int | None = 1
    unit_name: str | None = HOSTILE
    opd_name: str | None = LONG[:100]
    nip: str | None = "198609262015051001"
    role: str = "superadmin"
    language: str = "id"
    consent_at: datetime | None = datetime(2026, 1, 5, tzinfo=UTC)
    created_at: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    reachable: bool = True


@dataclass(frozen=True)
class SampleDraft:
    full_name: str | None = LONG
    nip: str | None = "198609262015051001"
    purpose: str = "register"
    verify: str | None = None


@dataclass(frozen=True)
class _Standing:
    points_week: int = 36
    points_month: int = 120
    points_all: int = 1450
    practice_points: int = 7
    rank_in_unit: int | None = 3
    unit_size: int = 80


@dataclass(frozen=True)
class _Rank:
    name: str = HOSTILE
    rank: int = 2
    score: float = 31.25
    participation: float = 0.8
    pooled: bool = False


@dataclass(frozen=True)
class _Tally:
    total: int
    answered: int
    correct: int
    points: int


@dataclass(frozen=True)
class _Result:
    added: int = 10
    updated: int = 2
    retired: int = 0


@dataclass(frozen=True)
class _Progress:
    total: int = 5000
    sent: int = 1400
    failed: int = 12
    blocked: int = 30
    cancelled: int = 0
    pending: int = 3558
    unconfirmed: int = 3

    @property
    def remaining(self) -> int:
        return self.pending


@dataclass(frozen=True)
class _Broadcast:
    id: int = 7
    status: str = "scheduled"
    scheduled_at: datetime | None = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class _Audit:
    at: datetime = datetime(2026, 11, 29, 3, 0)
    actor_user_id: int | None = 5_000_000_001
    action: str = "broadcast_send"
    audience_size: int | None = 5000
    allowed: bool = False
    detail: dict[str, Any] = field(
        default_factory=lambda: {"count": 500, "actions": ["broadcast_send", HOSTILE] * 5}
    )


@dataclass(frozen=True)
class _Value:
    name: str = "Berorientasi Pelayanan " + HOSTILE
    definition: str = LONG


@dataclass(frozen=True)
class _Guideline:
    text: str = LONG
    explanation: str = LONG
    example: str = HOSTILE * 3


@dataclass(frozen=True)
class _Policy:
    instansi: str = LONG[:100]
    controller: str = HOSTILE
    answers_years: str = "1,5"
    audit_years: str = "5"
    delivery_days: int = 90
    draft_days: int = 7


@dataclass(frozen=True)
class _Prompt:
    text: str = LONG


def _variants() -> dict[str, list[dict[str, Any]]]:
    """Context per template; several where a template branches."""
    unit = SampleUnit()
    member = SampleMember()
    plain: list[dict[str, Any]] = [{}]
    return {
        "welcome": plain,
        "consent": [{"policy": _Policy()}],
        "data_export": plain,
        "draft_erase_confirm": plain,
        "draft_erased": plain,
        "nip_taken": plain,
        "group_link_pending": [{"unit": LONG[:100], "asked": a} for a in (True, False)],
        "group_link_request": [{"unit": LONG[:100], "group": HOSTILE}],
        "group_link_moved": [
            {"unit": LONG[:100], "group": HOSTILE, "by_admin": b} for b in (True, False)
        ],
        "group_link_declined": [{"unit": LONG[:100]}],
        "group_link_admins": [
            {"unit": LONG[:100], "group": HOSTILE, "by_admin": b} for b in (True, False)
        ],
        "consent_declined": plain,
        "ask_name": plain,
        "name_invalid": [
            {"problem": p, "length": 5000}
            for p in ("empty", "too_long", "too_short", "digits", "no_letters", "symbols")
        ],
        "ask_opd": [{"purpose": p, "page": 1, "pages": 5} for p in ("register", "change_unit")],
        "ask_unit": [{"opd": unit, "page": 2, "pages": 3}],
        "unit_search_results": [
            {"query": HOSTILE, "results": [unit]},
            {"query": HOSTILE, "results": []},
        ],
        "unit_search_invalid": [{"limit": 64}],
        "unit_chosen": [{"unit": unit}, {"unit": replace(unit, parent_name=None)}],
        "unit_gone": plain,
        "no_units": plain,
        "quiz_empty": plain,
        "value_of_the_day": [
            {"value": _Value(), "guideline": _Guideline(), "prompt": _Prompt(), "reply_hint": True},
            {"value": _Value(), "guideline": _Guideline(), "prompt": None, "reply_hint": False},
        ],
        "quiz_round_intro": [
            {"count": 3, "closes_at": None, "tz": None, "tz_label": None},
            {
                "count": 5,
                "closes_at": datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
                "tz": "Asia/Makassar",
                "tz_label": "WITA",
            },
        ],
        "quiz_result": [
            {"tally": _Tally(3, 3, 3, 36), "closed": False},
            {"tally": _Tally(3, 1, 0, 2), "closed": True},
            {"tally": _Tally(5, 5, 2, 34), "closed": False},
        ],
        "quiz_closed": plain,
        "reflection_saved": [{"value": _Value(), "points": 10}, {"value": _Value(), "points": 0}],
        "reflection_too_long": [{"length": 4096, "limit": 1000}],
        "reflection_empty": plain,
        "score_card": [
            {
                "member": SampleMember(),
                "standing": _Standing(),
                "streak": 12,
                "values": [(_Value(), (10, 7)), (_Value(), None)],
                "private": True,
            },
            {
                "member": SampleMember(),
                "standing": _Standing(rank_in_unit=None, practice_points=0),
                "streak": 0,
                "values": [],
                "private": False,
            },
        ],
        "board_unit": [
            {
                "unit": HOSTILE,
                "mine": _Rank(),
                "opd": _Rank(),
                "units": 300,
                "opds": 31,
                "strong": HOSTILE,
                "weak": LONG[:40],
                "names": [HOSTILE, "Budi"],
                "improved": [HOSTILE, LONG[:100]],
                "week": "21-12-2026 – 25-12-2026",
            },
            {
                "unit": LONG[:100],
                "mine": None,
                "opd": None,
                "units": 0,
                "opds": 0,
                "strong": None,
                "weak": None,
                "names": [],
                "improved": [HOSTILE, LONG[:100]],
                "week": "x",
            },
            {
                "unit": "Unit",
                "mine": _Rank(pooled=True),
                "opd": _Rank(),
                "units": 3,
                "opds": 1,
                "strong": "A",
                "weak": "A",
                "names": [],
                "improved": [HOSTILE, LONG[:100]],
                "week": "x",
            },
        ],
        "board_summary": [
            {
                "opds": [_Rank()] * 5,
                "participation": 0.734,
                "improved": [HOSTILE] * 3,
                "week": "21-12-2026 – 25-12-2026",
            },
            {"opds": [], "participation": 0.0, "improved": [], "week": "x"},
        ],
        "ranking_cooldown": [{"seconds": 42}],
        "slow_down": [
            {"what": what, "seconds": 20}
            for what in ("reflection", "score", "practice", "anything else")
        ],
        "flood_notice": plain,
        "ranking_empty": plain,
        "group_not_linked": [{"bot": "berakhlak_bot"}],
        "group_link_refused": [
            {"chat_admin": False, "bot": "berakhlak_bot"},
            {"chat_admin": True, "bot": "berakhlak_bot"},
        ],
        "group_link_which": [{"count": 0, "bot": ""}, {"count": 7, "bot": "berakhlak_bot"}],
        "group_linked": [
            {"unit": HOSTILE, "board": _Slot("peringkat", "15:00", (5,)), "bot": "berakhlak_bot"},
            {"unit": "Dinas Sosial", "board": _Slot("peringkat", "15:00", (1, 3, 5)), "bot": ""},
            {
                "unit": HOSTILE,
                "board": _Slot("peringkat", "15:00", (5,), enabled=False),
                "bot": "b",
            },
            {"unit": HOSTILE, "board": None, "bot": "b"},
        ],
        "leave_usage": plain,
        "leave_month_only": plain,
        "leave_not_working_day": [{"day": date(2026, 12, 25)}],
        "leave_none_left": [{"allowed": 3}],
        "leave_already": [{"day": date(2026, 12, 21)}],
        "leave_saved": [{"day": date(2026, 12, 21), "left": 2}],
        "show_name_set": [{"shown": True}, {"shown": False}],
        "ask_nip": plain,
        "nip_invalid": [
            {"problem": p, "length": 17}
            for p in ("not_digits", "length", "birth_date", "sex_digit", "appointment")
        ],
        "summary": [
            {"draft": SampleDraft(), "unit": unit},
            {"draft": SampleDraft(nip=None), "unit": None},
            {"draft": SampleDraft(verify="unknown"), "unit": unit},
        ],
        "redo": plain,
        "registered": [{"member": member}],
        "already_registered": [{"member": member}],
        "resume": plain,
        "use_buttons": plain,
        "expected_text": [{"step": "name"}],
        "not_registered": plain,
        "nothing_expected": plain,
        "unknown_command": [{"registered": True}, {"registered": False}],
        "profile": [
            {"member": member},
            {"member": replace(member, nip=None, role="member", opd_name=None)},
        ],
        "change_unit_intro": [{"member": member}],
        "unit_changed": [{"unit": unit}],
        "ask_language": plain,
        "language_set": plain,
        "erase_confirm": plain,
        "erased": plain,
        "erase_cancelled": plain,
        "help": [
            {"commands": [("profil", HOSTILE)] * 12, "member": member},
            {"commands": [("start", "x")], "member": None},
        ],
        "group_help": plain,
        "group_private_only": plain,
        "error": plain,
        "telegram_failed": [
            {"kind": k, "seconds": 35, "reason": r, "then": t}
            for k in ("bad_request", "retry_after", "timed_out", "network")
            for r, t in (
                (None, "retry"),
                (HOSTILE * 5, "start"),
                (None, "jadwal"),
                (None, "done"),
                (HOSTILE, "bc_list"),
            )
        ],
        "bc_preview_failed": [
            {"kind": k, "seconds": 35, "reason": HOSTILE * 5}
            for k in ("bad_request", "retry_after", "timed_out", "network")
        ],
        "content_preview_failed": [
            {"kind": k, "seconds": 35, "reason": HOSTILE * 5}
            for k in ("bad_request", "retry_after", "timed_out", "network")
        ],
        "quiz_scene": [{"scene": HOSTILE * 10}],
        "quiz_follow_up": [{"scene": HOSTILE * 10}, {"scene": None}],
        "content_template": plain,
        "content_exported": [{"count": 147}],
        "content_rejected": [
            {"errors": ["Baris 3: " + HOSTILE] * 25, "more": 12},
            {"errors": ["Berkas ini bukan spreadsheet"], "more": 0},
        ],
        "content_preview_intro": [{"count": 12, "new": 10, "updated": 2, "shown": 3}],
        "content_confirm": [{"count": 12}],
        "content_cancelled": plain,
        "content_imported": [{"result": _Result()}],
        "bc_audience": plain,
        "bc_units": [{"chosen": 3, "count": 120, "page": 1, "pages": 4}],
        "bc_units_searching": plain,
        "bc_ask_message": [{"count": 5000}],
        "bc_invalid": [
            {"problem": "placeholder", "detail": {"names": [HOSTILE]}},
            {"problem": "html", "detail": {"reason": HOSTILE}},
            {"problem": "html", "detail": {"reason": HOSTILE, "position": 4090, "excerpt": LONG}},
            {"problem": "too_long", "detail": {"length": 5000, "limit": 4096}},
            {"problem": "empty", "detail": {}},
            {"problem": "kind", "detail": {}},
        ],
        "bc_preview_intro": plain,
        "bc_confirm": [{"count": 5000}],
        "bc_ask_when": [{"tz": "Asia/Jakarta"}],
        "bc_when_invalid": [{"problem": p} for p in ("past", "far", "format")],
        "bc_scheduled": [
            {"id": 7, "when": datetime(2026, 12, 1, 1, 0, tzinfo=UTC), "tz": "Asia/Makassar"}
        ],
        "bc_progress": [
            {"id": 7, "p": None, "bar": "░" * 10, "percent": 0, "rate": 0.0, "eta": None},
            {
                "id": 7,
                "p": _Progress(),
                "bar": "▓▓▓░░░░░░░",
                "percent": 30,
                "rate": 29.4,
                "eta": 3725,
            },
        ],
        "bc_report": [
            {
                "id": 7,
                "p": _Progress(),
                "status": s,
                "bar": "",
                "percent": 100,
                "rate": 1.0,
                "eta": None,
                "confirmed": 1397,
                "unanswered": unanswered,
                "stopped": 3 - unanswered,
            }
            for s in ("done", "cancelled")
            for unanswered in (0, 2)
        ],
        "bc_unconfirmed_file": [{"id": 7, "n": 3}],
        "bc_resend_confirm": [{"id": 7, "n": 3}],
        "bc_resend_started": [{"id": 7, "n": 3}],
        "bc_resend_cancelled": [{"id": 7}],
        "bc_list": [
            {
                "items": [{"info": _Broadcast(), "p": _Progress(), "preview": HOSTILE}] * 10,
                "tz": "Asia/Jakarta",
            },
            {"items": [], "tz": "Asia/Jakarta"},
        ],
        "bc_cancel_menu": [{"count": 2}, {"count": 0}],
        "bc_stopped": [{"id": 7, "rows_cancelled": 1200}],
        "bc_cancelled": plain,
        "admin_add_usage": plain,
        "admin_candidates": [{"query": HOSTILE, "count": 3}, {"query": HOSTILE, "count": 0}],
        "admin_remove_menu": [{"count": 2}, {"count": 0}],
        "admin_role_changed": [
            {"member": member, "adding": True},
            {"member": member, "adding": False},
        ],
        "admin_list": [{"admins": [member] * 30}, {"admins": []}],
        "audit": [
            {
                "entries": [_Audit()] * 20,
                "names": {5_000_000_001: LONG},
                "tz": "Asia/Jayapura",
                "refused": True,
                "page": 3,
                "pages": 999,
                "other": 123456,
                "person": LONG,
            },
            {
                "entries": [],
                "names": {},
                "tz": "Asia/Jakarta",
                "refused": False,
                "page": 1,
                "pages": 1,
                "other": 0,
                "person": None,
            },
        ],
        "audit_person_which": [{"count": 0}, {"count": 9}],
        "admin_only": [{"superadmin": True}, {"superadmin": False}],
        "statistics": [{"opds": [(HOSTILE, 12), (LONG[:100], 3)] * 30, "total": 123}],
        "report_choose_scope": [
            {"period": "Triwulan IV 2026", "page": 0, "pages": 1},
            {"period": "Desember 2026", "page": 2, "pages": 9},
        ],
        "report_building": [{"period": "Desember 2026", "scope": "OPD: " + HOSTILE}],
        "report_ready": [
            {
                "period": "Desember 2026",
                "scope": "OPD: " + LONG[:100],
                "members": "5.000",
                "participation": "72,5 %",
                "accuracy": "–",
            }
        ],
        "report_too_small": [{"n": 5}],
        "report_opd_none": [{}],
        "analysis_file": [{}],
        "analysis_summary": [
            {
                "total": 300,
                "judged": 280,
                "minimum": 30,
                "flagged": [_Item()] * 20,
                "more": 80,
                "aside": 100,
            },
            {"total": 3, "judged": 0, "minimum": 30, "flagged": [], "more": 0, "aside": 0},
        ],
        "report_choose_opd": [{"more": True}, {"more": False}],
        "report_monthly": [
            {
                "period": "November 2026",
                "members": "5.000",
                "participation": "72,5 %",
                "accuracy": "61,0 %",
            }
        ],
        "report_silent_alert": [
            {"units": [(LONG[:100], 12, "tidak ada aktivitas 14 hari terakhir")] * 30, "more": 0},
            {"units": [(HOSTILE, 5, "partisipasi di bawah 20 %")], "more": 270},
        ],
        "report_nudge_sent": [{"units": 300, "count": 5000, "id": 12}],
    }


@dataclass(frozen=True)
class _Slot:
    key: str = "kuis"
    time: str = "10:00"
    days: tuple[int, ...] = (2, 4)
    enabled: bool = True
    questions: int = 3
    window_minutes: int | None = 90


def _programme_variants() -> dict[str, list[dict[str, Any]]]:
    """/jadwal, sending now, pause and resume (handlers/programme.py)."""
    slots = [
        _Slot("nilai", "07:30", (1, 2, 3, 4, 5), window_minutes=None),
        _Slot(),
        _Slot("peringkat", "15:00", (5,), enabled=False),
        _Slot(HOSTILE, "20:45", tuple(range(1, 8)), window_minutes=240),
    ]
    run = {"at": datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "tz": "Asia/Makassar", "zone": HOSTILE}
    runs = {"nilai": run, "kuis": run, HOSTILE: run}
    unit = SampleUnit()
    confirm = {"questions": 5, "window_minutes": 120}
    return {
        "prg_overview": [
            {"slots": slots, "next_runs": runs, "paused": True},
            {"slots": slots, "next_runs": {}, "paused": False},
            {"slots": [], "next_runs": {}, "paused": False},
        ],
        "prg_slot": [
            {"slot": s, "next_run": run, "paused": p, "picker": k, "hour": 7}
            for s in slots
            for p, k in ((True, None), (False, "hour"), (False, "minute"))
        ]
        + [{"slot": slots[0], "next_run": None, "paused": False, "picker": None, "hour": None}],
        "prg_send_units": [
            {"kind": k, "query": HOSTILE, "results": r}
            for k in ("nilai", "kuis")
            for r in ([unit] * 8, [])
        ],
        "prg_send_confirm": [
            {"kind": "kuis", "count": 5000, "unit": unit, **confirm},
            {"kind": "kuis", "count": 0, "unit": None, "questions": 1, "window_minutes": None},
            {"kind": "kuis", "count": 3, "unit": None, "questions": 3, "window_minutes": 45},
            {"kind": "nilai", "count": 5000, "unit": replace(unit, parent_name=None), **confirm},
            {"kind": "nilai", "count": 0, "unit": None, "questions": None, "window_minutes": None},
        ],
        "prg_send_done": [
            {"kind": k, "count": c, "unit": u}
            for k in ("nilai", "kuis")
            for c, u in ((5000, None), (0, unit))
        ],
        "prg_send_cancelled": [{"kind": "nilai"}, {"kind": "kuis"}],
        "prg_pause": [
            {"on": on, "changed": changed} for on in (True, False) for changed in (True, False)
        ],
    }


@dataclass(frozen=True)
class _Item:
    question_id: str = "HR-BP-0123"
    difficulty: float = 0.97
    discrimination: float | None = -0.35
    flags: tuple[str, ...] = ("easy", "hard", "distractor")


@dataclass(frozen=True)
class _Idea:
    id: int = 12345
    author_name: str | None = LONG[:100]
    unit_name: str | None = HOSTILE
    target_name: str | None = LONG[:100]
    value: str = "KL"
    title: str = ("Ide " + HOSTILE * 3)[:100]
    description: str = (LONG * 4)[:1000]
    status: str = "ditunda"
    reason: str | None = (HOSTILE * 10)[:300]
    supports: int = 12000
    helpers: int = 300


@dataclass(frozen=True)
class _Story:
    id: int = 12345
    author_name: str | None = LONG[:100]
    unit_name: str | None = HOSTILE
    value: str = "BP"
    text: str = (LONG * 4)[:1000]
    photo_file_id: str | None = "AgACAgQAAxkBAAIB"
    status: str = "disetujui"
    reason: str | None = (HOSTILE * 10)[:300]
    flags: tuple[str, ...] = ("nik", "phone", "address")
    consent_author: bool = True
    consent_others: bool = True


@dataclass(frozen=True)
class _Crossings:
    thanks: int = 120000
    thanks_cross_unit: int = 60000
    thanks_cross_generation: int = 30000
    help: int = 90000
    help_cross_unit: int = 4000
    help_cross_generation: int = 2000

    @property
    def any(self) -> bool:
        return bool(self.thanks or self.help)


def _idea_variants() -> dict[str, list[dict[str, Any]]]:
    idea, done = _Idea(), _Idea(status="terealisasi", reason=None, target_name=None)
    story = _Story()
    internal = _Story(consent_author=False, consent_others=False, photo_file_id=None, flags=())
    return {
        "idea_ask_description": [{"title": _Idea.title}],
        # No variables: rendered once, for the length and HTML rules.
        "idea_ask_title": [{}],
        "idea_ask_value": [{}],
        "idea_ask_target": [{}],
        "idea_cancelled": [{}],
        "report_choose_period": [{}],
        "report_nudge": [{}],
        "idea_preview": [
            {
                "title": _Idea.title,
                "description": _Idea.description,
                "value": "Berorientasi Pelayanan",
                "target": LONG[:100],
            }
        ],
        "idea_saved": [{"id": 12345}],
        "idea_refused": [
            {"problem": p, "idea": idea, "length": 5000}
            for p in (
                "per_day",
                "duplicate",
                "title_empty",
                "title_too_long",
                "desc_too_short",
                "desc_too_long",
                "not_text",
            )
        ],
        "idea_list": [{"ideas": [idea, done] * 3, "page": 3}, {"ideas": [], "page": 0}],
        "idea_manage": [{"idea": idea, "moves": ("ditinjau",)}, {"idea": done, "moves": ()}],
        "idea_ask_reason": [{"id": 12345}],
        "idea_exported": [{"count": 100000}],
        "idea_moved": [
            {"idea": idea, "author": True, "points": 20},
            {"idea": done, "author": False, "points": 10},
        ],
        "idea_digest": [
            {
                "ideas": [idea] * 10,
                "realised": [done] * 5,
                "stories": [HOSTILE] * 10,
                "thanks": [(HOSTILE, LONG[:50], "KL")] * 8,
                "crossing": _Crossings(),
            },
            {
                "ideas": [],
                "realised": [],
                "stories": [],
                "thanks": [(HOSTILE, HOSTILE, "BP")],
                "crossing": _Crossings(help=0, help_cross_unit=0, help_cross_generation=0),
            },
            {
                "ideas": [],
                "realised": [],
                "stories": [],
                "thanks": [],
                "crossing": _Crossings(thanks=0, thanks_cross_unit=0, thanks_cross_generation=0),
            },
        ],
        "story_ask": [{"limit": 1000}],
        "story_invalid": [{"length": 5, "photo": True}, {"length": 5000, "photo": False}],
        "story_ask_value": [{}],
        "story_ask_consent": [{}],
        "story_preview": [
            {
                "text": (LONG * 4)[:1000],
                "photo": True,
                "publish": True,
                "flags": ["nik", "phone", "address"],
            },
            {"text": HOSTILE, "photo": False, "publish": False, "flags": []},
        ],
        "story_cancelled": [{}],
        "story_submitted": [{"id": 12345}],
        "story_review": [
            {"story": story, "value": "Berorientasi Pelayanan", "waiting": 120},
            {"story": internal, "value": HOSTILE, "waiting": 1},
        ],
        "story_ask_reason": [{"id": 1, "status": "perbaiki"}, {"id": 2, "status": "ditolak"}],
        "story_reviewed": [
            {"story": story, "channel": False, "head": False},
            {"story": internal, "channel": True, "head": False},
            {"story": story, "channel": True, "head": True},
        ],
        "story_none": [{"head": True}, {"head": False}],
        "story_to_publish": [
            {"story": story, "head": LONG, "value": "Berorientasi Pelayanan"},
            {
                "story": replace(story, author_name=None, photo_file_id=None),
                "head": HOSTILE,
                "value": HOSTILE,
            },
        ],
        "story_stale_text": [{}],
        "story_status": [
            {"story": replace(story, status=s)}
            for s in ("disetujui", "terbit", "perbaiki", "ditolak")
        ],
        "story_public": [
            {"text": (LONG * 4)[:1000], "value": "Berorientasi Pelayanan", "unit": LONG[:100]}
        ],
        "apr_usage": [{"searched": True}, {"searched": False}],
        "apr_choose": [{}],
        "apr_value": [{}],
        "apr_ask_reason": [{"limit": 200}],
        "apr_reason_invalid": [{"length": 5000}, {"length": 0}],
        "apr_gone": [{}],
        "apr_refused": [{"problem": "per_day"}, {"problem": "self"}],
        "apr_sent": [
            {"name": LONG[:100], "value": HOSTILE, "counted": False},
            {"name": HOSTILE, "value": "Kolaboratif", "counted": True},
        ],
        "apr_received": [
            {
                "name": LONG[:100],
                "unit": HOSTILE,
                "value": "Kolaboratif",
                "reason": (HOSTILE * 5)[:200],
                "points": 2,
            }
        ],
    }


@dataclass(frozen=True)
class _Head:
    unit_id: int = 1
    unit_name: str = LONG[:100]
    member_id: int = 2
    member_name: str = LONG[:100]


def _unit_head_variants() -> dict[str, list[dict[str, Any]]]:
    unit, member = SampleUnit(), SampleMember(full_name=LONG[:100])
    return {
        "kpu_list": [{"heads": [_Head()] * 50}, {"heads": []}],
        "kpu_units": [
            {"query": HOSTILE[:64], "results": [unit]},
            {"query": HOSTILE[:64], "results": []},
        ],
        "kpu_ask_name": [
            {"unit": unit, "current": member},
            {"unit": replace(unit, parent_name=None), "current": None},
        ],
        "kpu_no_member": [{"query": HOSTILE[:64]}, {"query": ""}],
        "kpu_choose": [{"query": HOSTILE[:64]}],
        "kpu_done": [
            {"unit": unit, "member": member, "named": True},
            {"unit": unit, "member": member, "named": False},
        ],
        "kpu_told": [{"unit": unit, "named": True}, {"unit": unit, "named": False}],
    }


def _identity_variants() -> dict[str, list[dict[str, Any]]]:
    unit = SampleUnit()
    reasons = ("unknown", "name", "taken", "none", "nounit")
    return {
        "identity_refused": [{"problem": p} for p in reasons],
        "hr_request_admin": [
            {
                "draft": SampleDraft(verify=r),
                "unit": unit,
                "listed_name": LONG[:100],
                "holder_name": HOSTILE,
            }
            for r in reasons
        ]
        + [
            {
                "draft": SampleDraft(purpose="change_unit", verify="unit", full_name=None),
                "unit": unit,
                "member_name": LONG[:100],
                "listed_unit": HOSTILE,
            }
        ],
        "hr_request_decided": [
            {"approved": True, "admin": LONG, "name": HOSTILE},
            {"approved": False, "admin": HOSTILE, "name": None},
        ],
        "hr_request_declined": [{"change_unit": True}, {"change_unit": False}],
        "unit_change_refused": [{"unit": unit, "listed": HOSTILE}, {"unit": unit, "listed": None}],
        "audit_exported": [{"actions": 100000, "refused": 100000}],
        "hr_request_sent": [{}],
        "hr_request_waiting": [{}],
        "ask_name": [{"verified": True}, {"verified": False}],
        "ask_nip": [{"verified": True}, {"verified": False}],
    }


SAMPLES = {
    **_variants(),
    **_programme_variants(),
    **_idea_variants(),
    **_unit_head_variants(),
    **_identity_variants(),
}


def samples_for(name: str) -> list[dict[str, Any]]:
    return SAMPLES.get(name, [{}])
