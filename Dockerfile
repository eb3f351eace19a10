# syntax=docker/dockerfile:1
# Radyar: `docker build -t radyar .` then `docker run --rm -v radyar-data:/data radyar` (demo),
# or `docker run … radyar COMMAND …` for any other radyar command. compose.yaml runs it with
# PostgreSQL and Orthanc; scripts/check-dockerfile.sh checks this file where Docker cannot run.
#
# Debian 13 (trixie) in both stages: its postgresql-client is 17, the major version of
# compose.yaml's PostgreSQL (pg_dump must be at least the server's for `radyar backup`).

# Build: the project's wheel and its dependencies' wheels, and the compiled catalogues.
FROM python:3.11-slim-trixie AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN pip install "Babel>=2.14,<3"
COPY pyproject.toml setup.py README.md babel.cfg ./
COPY clinic/ clinic/
COPY radyar/ radyar/
COPY bot/ bot/
COPY notifier/ notifier/
COPY sandbox/ sandbox/
COPY locales/ locales/
RUN pip wheel . --wheel-dir /wheels \
 && pybabel compile -d locales -D messages --statistics

# Runtime: a venv with the wheels only (no sources, no build tools), run as a non-root user.
FROM python:3.11-slim-trixie
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/radyar \
    PATH=/opt/radyar/bin:$PATH \
    RADYAR_LOCALE_DIR=/app/locales \
    RADYAR_DATA_DIR=/data
# pg_dump and pg_restore for `radyar backup` / `restore` on PostgreSQL. Debian's own package,
# unpinned on purpose: the release's security updates come with a rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/radyar
# Bind-mount the wheels rather than COPY them, so they do not stay in a layer. Only the wheels
# built above can be installed (--no-index): their versions are pinned by that build.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels radyar
COPY --from=build /src/locales/ /app/locales/
RUN groupadd --gid 10001 radyar \
 && useradd --uid 10001 --gid radyar --no-create-home --home-dir /data \
      --shell /usr/sbin/nologin radyar \
 && mkdir -p /data \
 && chown radyar:radyar /data
WORKDIR /data
VOLUME /data
# `radyar run`: the bot's webhook (RADYAR_LISTEN_PORT), health/metrics/HIS webhook
# (RADYAR_HTTP_PORT) and HL7 MLLP (RADYAR_MLLP_PORT); set the *_HOST variables to 0.0.0.0 here,
# and then RADYAR_MLLP_ALLOW and RADYAR_HIS_WEBHOOK_ALLOW to the RIS/HIS addresses (MLLP has no
# authentication of its own; anyone who reaches the port could send reports).
EXPOSE 8080 8090 2575
# /healthz of `radyar run`, asked inside the container on 127.0.0.1 (answered without a token;
# with RADYAR_METRICS_TOKEN set the check bears it). A `radyar worker` serves no HTTP: compose
# gives it `python -m radyar.healthcheck --database` instead.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-m", "radyar.healthcheck"]
# By number: the host (and Kubernetes' runAsNonRoot) can tell it is not root without the name.
USER 10001:10001
ENTRYPOINT ["radyar"]
CMD ["demo"]
