# Signpost bot image: `docker compose build`. Slim base, dependencies in their own layer (rebuilt
# only when pyproject.toml changes), the code last, and a non-root user.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# 1. Dependencies only: a stub of each package lets pip resolve and install everything the
#    project needs without the source, so editing code does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p bot storage adapters \
    && touch bot/__init__.py storage/__init__.py adapters/__init__.py \
    && pip install ".[telegram,matrix,matrix-e2e,redis,ops,pdf,reports]" \
    && pip uninstall -y signpost \
    && rm -rf bot storage adapters

# 2. The code and the scenarios.
# setup.py stays out: with no C compiler in this image the YAML reader runs in Python, which
# matters only when linting very large scenarios.
COPY bot ./bot
COPY storage ./storage
COPY adapters ./adapters
COPY dialogues ./dialogues
RUN pip install --no-deps . && python -c "import bot.cli, storage, adapters"

# 3. Run as an unprivileged user that owns nothing but its working files.
RUN useradd --system --uid 10001 --home-dir /app signpost \
    && mkdir -p /var/lib/signpost/matrix-keys && chown -R 10001:10001 /var/lib/signpost
USER 10001:10001

ENV SIGNPOST_DIALOGUES=/app/dialogues
EXPOSE 8081 9100
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SIGNPOST_OPS_PORT', '9100'), timeout=2)"
ENTRYPOINT ["signpost"]
CMD ["--help"]
