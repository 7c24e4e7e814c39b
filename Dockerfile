# The BerAKHLAK bot: `docker compose up -d` (compose.yaml) runs it with PostgreSQL 16.
# README "Deploying for an instansi" walks through it.

# Debian 13 "trixie": its postgresql-client is version 17. `berakhlak backup` runs pg_dump,
# which refuses a server of a newer major version than its own; compose.yaml runs
# PostgreSQL 16, and Debian 12 "bookworm" ships client 15, which is too old.
FROM python:3.11-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# tzdata: the programme runs at 07:30 in each unit's zone (WIB, WITA, WIT), and slim
# Debian images no longer carry the zone files.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client tzdata \
    && rm -rf /var/lib/apt/lists/*

# The project itself, without the dev extra (tests and linters stay out of the image).
COPY pyproject.toml README.md constraints.txt /src/
COPY bot /src/bot
COPY handlers /src/handlers
COPY content /src/content
COPY db /src/db
RUN pip install -c /src/constraints.txt /src && rm -rf /src

# A user of its own: the bot needs no root. /app/data holds a SQLite database if
# DATABASE_URL names none; /app/backups is where compose.yaml mounts the backup volume
# (a named volume takes this directory's owner when it is first created).
RUN useradd --create-home --uid 10001 berakhlak \
    && mkdir -p /app/data /app/backups \
    && chown berakhlak:berakhlak /app/data /app/backups
USER berakhlak
WORKDIR /app

# Database, migrations, content, Bot API and outbox; see `berakhlak health --help`. The
# start period covers the first start, which migrates and loads the question bank.
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 \
    CMD ["berakhlak", "health"]

CMD ["berakhlak", "run"]
