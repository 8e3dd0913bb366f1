# The service, for people with Docker (docker-compose.yml points it at Neo4j).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY ingest ./ingest
COPY api ./api
RUN pip install --no-cache-dir . && useradd --system lineage && mkdir /data && chown lineage /data
USER lineage
ENV LINEAGE_DATA_DIR=/data
EXPOSE 8642
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8642/readyz')"
CMD ["lineage", "serve", "--host", "0.0.0.0", "--port", "8642"]
