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
# Secrets (e.g. JIRA_API_TOKEN) come from `docker run -e`, never from the image.
CMD ["partnerscope", "run", "--host", "0.0.0.0", "--port", "8000"]
