# Partnerscope in a container: the same install as the README (pip install of this project),
# serving on port 8000. Mount a config.toml at /data/config.toml to read your own trackers;
# without one the container runs the bundled demo. The SQLite file lives in /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY connectors ./connectors
COPY analytics ./analytics
COPY simulator ./simulator
RUN pip install . && useradd --create-home --uid 10001 partnerscope && mkdir /data && chown partnerscope /data

USER partnerscope
WORKDIR /data
EXPOSE 8000
# /healthz reads no database; the first start builds the demo or syncs first, hence the grace.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Secrets (e.g. JIRA_API_TOKEN) come from `docker run -e`, never from the image.
CMD ["partnerscope", "run", "--host", "0.0.0.0", "--port", "8000"]
