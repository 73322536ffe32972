# fuqing (妇情通): the API and chat channels on port 8000, data in the /app/data volume.
#   docker build -t fuqing .
#   docker run -p 8000:8000 -v fuqing-data:/app/data --env-file .env fuqing
#
# The image runs in production (FUQING_ENV=production): it refuses to start until
# FUQING_SECRET_KEY, FUQING_API_TOKEN and FUQING_ADMIN_TOKEN hold real values, and says which
# are missing. .env.example lists every setting; docs/operations.md ("Deploying") explains them.
#
# Python: an exact, patched release. CVE-2024-7592 (quadratic cookie parsing) is fixed from
# 3.11.10 and 3.12.6 on; bump the tag for later security releases (tests/test_deploy.py checks
# it stays at or above the fix).
FROM python:3.12.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 fuqing

# The dependencies, in their own layer: exactly the versions and files of the lock (hashes
# checked), rebuilt only when the lock changes, not when the code does.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

# The app itself, on top, without touching the locked dependencies.
WORKDIR /src
COPY . .
RUN pip install --no-deps . \
    && rm -rf /src \
    && mkdir -p /app/data \
    && chown fuqing:fuqing /app/data

WORKDIR /app
ENV FUQING_ENV=production \
    FUQING_DATABASE_URL=sqlite:////app/data/fuqing.db
VOLUME /app/data
USER fuqing
EXPOSE 8000

# `serve` migrates the SQLite database itself on start (PostgreSQL: run `fuqing db upgrade`).
CMD ["fuqing", "serve", "--host", "0.0.0.0", "--port", "8000"]
