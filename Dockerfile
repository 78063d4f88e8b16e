# Partnerscope in a container: the same install as the README (pip install of this project).
# The default command upgrades the database schema, then serves on port 8000 with gunicorn
# (`[server] workers` processes). Mount a folder at /data holding config.toml (or set
# PARTNERSCOPE_CONFIG); the SQLite database, when that is the one configured, lives there too.
#   the web:        docker run -p 8000:8000 -v "$PWD/data:/data" -e JIRA_API_TOKEN IMAGE
#   the worker:     docker run --no-healthcheck -v "$PWD/data:/data" -e JIRA_API_TOKEN IMAGE partnerscope worker
#   the demo:       docker run -p 8000:8000 -v "$PWD/data:/data" IMAGE partnerscope run --host 0.0.0.0
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The dependencies in a layer of their own, read from pyproject.toml: a change to the source
# alone reuses it rather than installing them all again.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY README.md ./
COPY service ./service
COPY connectors ./connectors
COPY analytics ./analytics
COPY simulator ./simulator
RUN pip install --no-deps . && useradd --create-home --uid 10001 partnerscope && mkdir /data && chown partnerscope /data

USER partnerscope
WORKDIR /data
EXPOSE 8000
# /healthz reads no database; the grace covers a first `partnerscope run` building the demo.
# The worker serves no HTTP: run it with --no-healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Secrets (JIRA_API_TOKEN, PARTNERSCOPE_SECRET_KEY, PGPASSWORD, …) come from `docker run -e`,
# never from the image. `exec`: gunicorn's master is PID 1, so `docker stop`'s SIGTERM reaches it.
CMD ["sh", "-c", "partnerscope db upgrade && exec partnerscope serve --host 0.0.0.0 --port 8000"]
