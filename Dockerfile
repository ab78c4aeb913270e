# One image for the API and the workers (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY tlprobe ./tlprobe
COPY service ./service
COPY worker ./worker
RUN pip install --no-cache-dir . && useradd --create-home --uid 1000 tlprobe
USER tlprobe
EXPOSE 8000
CMD ["uvicorn", "--factory", "service.main:app", "--host", "0.0.0.0", "--port", "8000"]
