# newsbot in a container: `newsbot run`, or the playground on port 8080 while there is no
# TELEGRAM_BOT_TOKEN (as `make run` does). The store is SQLite on the /data volume unless
# DATABASE_URL names PostgreSQL (compose.yaml). Health: HEALTH_PORT 8081 (/healthz, /readyz).
#
# Builds from python:3.12-slim or any Debian-like base with python3, python3-venv and
# ca-certificates: nothing here uses a package manager or a tool the bare base lacks.
# With podman, add `--format docker`: the OCI format has no HEALTHCHECK.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
RUN python3 -m venv /opt/newsbot
# The dependencies first, in their own layer: a change to the code alone reuses it.
COPY pyproject.toml /src/
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']))" > /src/requirements.txt \
    && /opt/newsbot/bin/pip install --no-cache-dir --disable-pip-version-check -r /src/requirements.txt
COPY README.md LICENSE /src/
COPY bot /src/bot
COPY handlers /src/handlers
COPY jobs /src/jobs
COPY seeds /src/seeds
RUN /opt/newsbot/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps /src

FROM ${BASE_IMAGE}
RUN groupadd --gid 10001 newsbot \
    && useradd --uid 10001 --gid newsbot --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin newsbot \
    && mkdir /data && chown newsbot:newsbot /data
COPY --from=build /opt/newsbot /opt/newsbot
ENV PATH=/opt/newsbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/newsbot.db \
    HEALTH_PORT=8081 \
    HEALTH_HOST=0.0.0.0
# The relative default (./data/newsbot.db) lands on the volume too, e.g. from a copied .env.
WORKDIR /
VOLUME /data
USER newsbot
EXPOSE 8080 8081
# Python's own HTTP client: slim images have no curl. A non-2xx answer raises, so exit 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${HEALTH_PORT}/healthz', timeout=4)" || exit 1
ENTRYPOINT ["newsbot"]
# 0.0.0.0: the published port reaches the playground only through the container's address.
CMD ["run", "--playground-if-no-token", "--playground-host", "0.0.0.0", "--playground-port", "8080"]
