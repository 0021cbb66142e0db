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
RUN pip install . && useradd --create-home --uid 10001 dialer \
    && mkdir -p /var/lib/dialer/dnc && chown -R dialer /var/lib/dialer
USER dialer
EXPOSE 8000
CMD ["dialer", "serve"]
