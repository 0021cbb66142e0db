# One image for the api, worker and beat services (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY compliance ./compliance
COPY dialer ./dialer
COPY bridge ./bridge
COPY crm ./crm
COPY sandbox ./sandbox
COPY migrations ./migrations
# /app stays root's: nothing writes under it at runtime. The volumes' mount points are the dialer
# user's (a new named volume takes its owner from the image), see docker-compose.yml.
RUN pip install . && rm -rf build *.egg-info && useradd --create-home --uid 10001 dialer \
    && mkdir -p /var/lib/dialer/dnc /var/lib/dialer/beat /data && chown -R dialer /var/lib/dialer /data
USER dialer
EXPOSE 8000
CMD ["dialer", "serve"]
