"""What people type when they look for their unit."""

from __future__ import annotations

# Everyday names and abbreviations -> a word of the official name.
ALIASES = {
    "dukcapil": "kependudukan",
    "disdukcapil": "kependudukan",
    "dispendukcapil": "kependudukan",
    "capil": "pencatatan",
    "pkm": "puskesmas",
    "kel": "kelurahan",
    "kec": "kecamatan",
    "bkpsdm": "kepegawaian",
    "bkd": "kepegawaian",
    "bappeda": "perencanaan",
    "bapenda": "pendapatan",
    "bpbd": "bencana",
    "satpol": "polisi",
    "damkar": "kebakaran",
    "dinkes": "kesehatan",
    "diknas": "pendidikan",
    "dispendik": "pendidikan",
    "dishub": "perhubungan",
    "kominfo": "komunikasi",
    "diskominfo": "komunikasi",
    "rsud": "rumah",
    "setda": "sekretariat",
}


def search_words(text: str, *, limit: int = 5) -> list[str]:
    words = [ALIASES.get(w, w) for w in text.lower().split()]
    return [w for w in words if w][:limit]
