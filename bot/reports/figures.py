"""The figures of an HR report: a period and a scope in, tables out, with every group smaller
than the minimum size pooled or suppressed before anything is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from db.engine import Database
from db.queries import reports
from db.queries.reports import Community, MissedItem, UnitFigures, UnitRow
from db.queries.scores import month_key, week_key

# A unit with no activity for this long is "silent"; so is one where fewer than this share
# of its members took part in the period.
SILENT_DAYS = 14
SILENT_SHARE = 0.2
# An item needs this many answers before its share correct says anything.
MISSED_MINIMUM = 10


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | year
    start: date  # first day
    end: date  # the day after the last

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    def months(self) -> list[str]:
        keys = []
        day = self.start
        while day < self.end:
            keys.append(month_key(day))
            day = _next_month(day)
        return keys

    def weeks(self) -> list[str]:
        """The weeks whose Monday falls in the period (a week belongs to one period only)."""
        monday = self.start + timedelta(days=(7 - self.start.weekday()) % 7)
        keys = []
        while monday < self.end:
            keys.append(week_key(monday))
            monday += timedelta(days=7)
        return keys

    def previous(self) -> Period:
        months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        start = self.start
        for _ in range(months):
            start = (start - timedelta(days=1)).replace(day=1)
        return Period(self.kind, start, self.start)


PERIOD_CODE = re.compile(
    r"^(?P<year>20\d\d)(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])))?$"
)


def parse_period(code: str) -> Period | None:
    """`2026-12`, `2026-Q4` or `2026`; None for anything else."""
    match = PERIOD_CODE.fullmatch(code.strip())
    if match is None:
        return None
    year = int(match["year"])
    if match["month"]:
        start = date(year, int(match["month"]), 1)
        return Period("month", start, _next_month(start))
    if match["quarter"]:
        start = date(year, 3 * int(match["quarter"]) - 2, 1)
        return Period("quarter", start, _next_month(_next_month(_next_month(start))))
    return Period("year", date(year, 1, 1), date(year + 1, 1, 1))


def period_choices(today: date) -> dict[str, Period]:
    """What /laporan offers: this month, last month, this quarter, this year."""
    this_month = Period("month", today.replace(day=1), _next_month(today.replace(day=1)))
    quarter = parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    year = parse_period(f"{today.year}")
    assert quarter is not None and year is not None
    return {"m0": this_month, "m1": this_month.previous(), "q0": quarter, "y0": year}


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Row:
    """A line of the report's tables: a unit, a pool of small units, or an OPD."""

    name: str
    members: int
    participants: int
    answered: int
    correct: int
    reflections: int
    values: dict[str, tuple[int, int]]
    previous_accuracy: float | None = None

    @property
    def participation(self) -> float | None:
        return self.participants / self.members if self.members else None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    def value_accuracy(self, value: str) -> float | None:
        answered, correct = self.values.get(value, (0, 0))
        return correct / answered if answered else None


@dataclass(frozen=True)
class SilentUnit:
    id: int
    name: str
    members: int
    reason: str  # quiet (no activity for SILENT_DAYS) | low (participation under SILENT_SHARE)


@dataclass
class Report:
    period: Period
    scope: str | None  # None for the whole instansi, else the OPD's name
    values: list[tuple[str, str]]  # (code, name) in the official order
    min_size: int
    total: Row
    opds: list[Row]
    units: list[Row]  # units and pools, each at least min_size members
    hidden_units: int  # small units whose figures only count in the totals
    weekly: dict[str, dict[str, int | None]]  # OPD name -> week -> participants
    week_starts: list[date]
    value_change: list[tuple[str, float | None, float | None]]  # code, now, before
    silent: list[SilentUnit]
    improved: list[tuple[str, float, float]]  # name, accuracy now, before
    missed: list[MissedItem]
    active_days: int
    units_with_members: int
    pooled: list[str] = field(default_factory=list)  # names of the pools shown
    # Ideas, stories and thanks: per OPD shown, then the scope's total; stories per value.
    community: list[tuple[str, Community]] = field(default_factory=list)
    stories_by_value: dict[str, int] = field(default_factory=dict)


def find_silent(
    units: list[UnitRow],
    figures: dict[int, UnitFigures],
    last: dict[int, datetime | None],
    *,
    now: datetime,
    min_size: int,
) -> list[SilentUnit]:
    """Units of at least `min_size` members with no activity for SILENT_DAYS, or where
    fewer than SILENT_SHARE of the members took part in the period so far."""
    silent = []
    quiet_since = now - timedelta(days=SILENT_DAYS)
    for u in units:
        if u.members < min_size:
            continue
        active = last.get(u.id)
        participants = figures[u.id].participants if u.id in figures else 0
        if active is None or active < quiet_since:
            silent.append(SilentUnit(u.id, u.name, u.members, "quiet"))
        elif participants / u.members < SILENT_SHARE:
            silent.append(SilentUnit(u.id, u.name, u.members, "low"))
    return silent


async def silent_units(
    db: Database, *, today: date, now: datetime, min_size: int
) -> list[SilentUnit]:
    """The silent units of the whole instansi over the two weeks before this one (for the
    Monday alert: a month just begun would make every unit look silent)."""
    weeks = [week_key(today - timedelta(days=7 * n)) for n in (1, 2)]
    units = await db.run(reports.units)
    figures = await db.run(reports.unit_figures, periods=weeks)
    last = await db.run(reports.last_activity)
    return find_silent(units, figures, last, now=now, min_size=min_size)


def _sum_community(rows: list[Community | None]) -> Community:
    total = Community()
    for row in rows:
        if row is None:
            continue
        for name in total.__dataclass_fields__:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def _sum_rows(name: str, members: int, figures: list[UnitFigures]) -> Row:
    values: dict[str, tuple[int, int]] = {}
    for f in figures:
        for code, (answered, correct) in f.values.items():
            a, c = values.get(code, (0, 0))
            values[code] = (a + answered, c + correct)
    return Row(
        name=name,
        members=members,
        participants=sum(f.participants for f in figures),
        answered=sum(f.answered for f in figures),
        correct=sum(f.correct for f in figures),
        reflections=sum(f.reflections for f in figures),
        values=values,
    )


def _with_previous(row: Row, before: Row) -> Row:
    return Row(**{**row.__dict__, "previous_accuracy": before.accuracy})


def _start_of(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


async def build_report(
    db: Database,
    period: Period,
    *,
    opd_id: int | None,
    values: list[tuple[str, str]],
    min_size: int,
    now: datetime,
    tz: str,
    pool_label: str,
) -> Report:
    """Every figure of one report. `pool_label` names a pool of small units; it is formatted
    with the OPD's name (`{opd}`)."""
    all_units = await db.run(reports.units)
    by_id = {u.id: u for u in all_units}
    scope_units = [u for u in all_units if opd_id is None or u.opd_id == opd_id]
    unit_ids = [u.id for u in scope_units]
    now_figures = await db.run(reports.unit_figures, periods=period.months())
    before_figures = await db.run(reports.unit_figures, periods=period.previous().months())
    # Weeks yet to begin are left out, not drawn as weeks nobody took part in.
    today = now.astimezone(ZoneInfo(tz)).date()
    weeks = [w for w in period.weeks() if date.fromisoformat(w[1:]) <= today]
    weekly_raw = await db.run(reports.weekly_participants, weeks=weeks)
    last = await db.run(reports.last_activity)
    days = await db.run(reports.active_days, start=period.start, end=period.end, unit_ids=unit_ids)
    missed = await db.run(
        reports.most_missed,
        start=_start_of(period.start, tz),
        end=_start_of(period.end, tz),
        unit_ids=unit_ids,
        minimum=MISSED_MINIMUM,
    )
    empty = UnitFigures()

    def figures_of(units: list[UnitRow], source: dict[int, UnitFigures]) -> list[UnitFigures]:
        return [source.get(u.id, empty) for u in units]

    total = _sum_rows("", sum(u.members for u in scope_units), figures_of(scope_units, now_figures))
    total = _with_previous(
        total, _sum_rows("", total.members, figures_of(scope_units, before_figures))
    )
    # OPDs: their own unit and every unit under them.
    opd_groups: dict[int, list[UnitRow]] = {}
    for u in scope_units:
        opd_groups.setdefault(u.opd_id, []).append(u)
    opds = []
    for oid, members in opd_groups.items():
        size = sum(u.members for u in members)
        if size < min_size:
            continue
        row = _sum_rows(by_id[oid].name, size, figures_of(members, now_figures))
        opds.append(_with_previous(row, _sum_rows("", size, figures_of(members, before_figures))))
    # Units: a unit below the minimum is pooled with its OPD's other small units; a pool
    # still below the minimum is left out (its members count in the totals only).
    unit_rows: list[Row] = []
    pooled_names: list[str] = []
    hidden = 0
    for oid, members in opd_groups.items():
        small = [u for u in members if 0 < u.members < min_size]
        for u in members:
            if u.members >= min_size:
                row = _sum_rows(u.name, u.members, figures_of([u], now_figures))
                unit_rows.append(
                    _with_previous(row, _sum_rows("", u.members, figures_of([u], before_figures)))
                )
        size = sum(u.members for u in small)
        if not small:
            continue
        if size >= min_size:
            name = pool_label.format(opd=by_id[oid].name)
            pooled_names.append(name)
            row = _sum_rows(name, size, figures_of(small, now_figures))
            unit_rows.append(
                _with_previous(row, _sum_rows("", size, figures_of(small, before_figures)))
            )
        else:
            hidden += len(small)
    # Weekly participation per OPD shown.
    shown_opds = {r.name for r in opds}
    weekly: dict[str, dict[str, int | None]] = {}
    for oid, members in opd_groups.items():
        name = by_id[oid].name
        if name not in shown_opds:
            continue
        weekly[name] = {w: sum(weekly_raw.get(u.id, {}).get(w, 0) for u in members) for w in weeks}
    value_change = [
        (
            code,
            total.value_accuracy(code),
            _sum_rows("", 0, figures_of(scope_units, before_figures)).value_accuracy(code),
        )
        for code, _ in values
    ]
    silent = find_silent(scope_units, now_figures, last, now=now, min_size=min_size)
    counts, stories_by_value = await db.run(
        reports.community, start=_start_of(period.start, tz), end=_start_of(period.end, tz)
    )
    community = []
    for oid, members in opd_groups.items():
        if by_id[oid].name in shown_opds:
            community.append((by_id[oid].name, _sum_community([counts.get(u.id) for u in members])))
    community.sort()
    community.append(("", _sum_community([counts.get(u.id) for u in scope_units])))
    improved = sorted(
        (
            (r.name, r.accuracy, r.previous_accuracy)
            for r in unit_rows
            if r.accuracy is not None and r.previous_accuracy is not None
        ),
        key=lambda t: t[2] - t[1],
    )
    return Report(
        period=period,
        scope=by_id[opd_id].name if opd_id is not None and opd_id in by_id else None,
        values=values,
        min_size=min_size,
        total=total,
        opds=sorted(opds, key=lambda r: r.name),
        units=sorted(unit_rows, key=lambda r: r.name),
        hidden_units=hidden,
        weekly=weekly,
        week_starts=[date.fromisoformat(w[1:]) for w in weeks],
        value_change=value_change,
        silent=silent,
        improved=[(n, a, b) for n, a, b in improved if a > b][:5],
        missed=missed,
        active_days=days,
        units_with_members=sum(1 for u in scope_units if u.members),
        community=community,
        # Per value over the whole instansi when the scope is; an OPD's are in its row.
        stories_by_value=stories_by_value if opd_id is None else {},
        pooled=pooled_names,
    )
