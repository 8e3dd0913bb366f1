# The service, for people with Docker (docker-compose.yml points it at Neo4j).
# The explorer (web/) is built in a Node stage and served by the service at /.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/index.html web/tsconfig.json web/vite.config.ts ./
COPY web/src ./src
RUN npx tsc --noEmit && npx vite build --outDir /static --emptyOutDir

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY ingest ./ingest
COPY api ./api
COPY --from=web /static ./api/static
RUN pip install --no-cache-dir . && useradd --system lineage && mkdir /data && chown lineage /data
USER lineage
ENV LINEAGE_DATA_DIR=/data
EXPOSE 8642
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8642/readyz')"
CMD ["lineage", "serve", "--host", "0.0.0.0", "--port", "8642"]
