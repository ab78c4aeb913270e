# One image for the API and the workers (docker-compose.yml picks the command). Dependencies come from
# the lock file, every package pinned with its hashes; then tlprobe itself, without resolving anything.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements/lock.txt requirements/lock.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/lock.txt
COPY pyproject.toml README.md ./
COPY tlprobe ./tlprobe
COPY service ./service
COPY worker ./worker
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && useradd --create-home --uid 1000 tlprobe
USER tlprobe
EXPOSE 8000
CMD ["uvicorn", "--factory", "service.main:app", "--host", "0.0.0.0", "--port", "8000"]
