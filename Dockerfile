# One image for every greenai process (workers, sink, scheduler, BFF, connectors, init):
# docker-compose.yml and the Helm chart (deploy/helm/greenai) choose the command.
#   ui     builds the ReconWorkstation with node
#   build  installs greenai and its dependencies into a virtual environment (/opt/venv)
#   final  the slim Python image with that environment, the source tree and the built UI:
#          no compiler, no node, no pip cache; runs as the unprivileged user 10001
FROM node:20-bookworm-slim AS ui
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm AS build
# a compiler for any dependency that has no wheel for this platform (this stage only)
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /app
# The dependencies first (a layer that changes only with pyproject.toml), then the code.
COPY pyproject.toml ./
RUN mkdir -p greenai streams bff \
 && /opt/venv/bin/pip install . \
 && /opt/venv/bin/pip uninstall -y greenai
COPY greenai/ greenai/
COPY streams/ streams/
COPY bff/ bff/
COPY schemas/ schemas/
COPY database/ database/
COPY infra/kafka/topics.yaml infra/kafka/topics.yaml
COPY examples/ examples/
# Editable, so that schemas/, database/ and frontend/dist are read from /app as in a
# checkout; the final image has /app at the same path.
RUN /opt/venv/bin/pip install --no-deps -e . \
 && find /app /opt/venv -name __pycache__ -prune -exec rm -rf {} +

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 greenai \
 && useradd --system --uid 10001 --gid greenai --home-dir /var/lib/greenai --create-home greenai
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --from=ui /src/frontend/dist /app/frontend/dist
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GREENAI_HOME=/var/lib/greenai \
    GREENAI_BFF_HOST=0.0.0.0 \
    GREENAI_METRICS_PORT=9464
WORKDIR /app
USER 10001:10001
EXPOSE 8000 9464
CMD ["greenai", "--help"]
