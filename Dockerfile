# One image for every greenai process (diff, attribution, bff, connectors); see docker-compose.yml.
FROM node:20-bookworm-slim AS ui
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml ./
COPY streams/ streams/
COPY bff/ bff/
COPY greenai/ greenai/
COPY schemas/ schemas/
COPY database/ database/
COPY infra/kafka/topics.yaml infra/kafka/topics.yaml
COPY examples/ examples/
# Editable: schemas/, database/ and frontend/dist are read from the source tree.
RUN pip install --no-cache-dir -e . && useradd --create-home greenai
COPY --from=ui /src/frontend/dist frontend/dist
USER greenai
ENV GREENAI_HOME=/home/greenai/.greenai GREENAI_BFF_HOST=0.0.0.0
CMD ["greenai", "--help"]
