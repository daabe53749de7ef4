# Minqing API image. Configuration only through MINQING_* environment variables
# (MINQING_DATABASE_URL, MINQING_MASTER_KEY, MINQING_TIMEZONE, MINQING_HOST, MINQING_PORT).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# pg_dump and pg_restore for `minqing backup` and `minqing restore` (Debian 12's client is
# PostgreSQL 15, the server docker-compose.yml runs).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY projections ./projections
COPY api ./api
COPY workers ./workers
RUN pip install . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin minqing \
    && mkdir -p /app/var /backups \
    && chown minqing:minqing /app/var /backups

# Runs as a non-root user; /app/var holds the embedded SQLite store and key file when
# MINQING_DATABASE_URL is not set.
USER minqing

EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MINQING_PORT', '8000'), timeout=2)"]

CMD ["minqing", "serve", "--host", "0.0.0.0"]
