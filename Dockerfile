# The platform beyond one machine: web (gunicorn), Celery workers and beat share this image.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . .
RUN SECRET_KEY=build ALLOWED_HOSTS=build DATABASE_URL=sqlite:///tmp/build.db \
    python manage.py collectstatic --noinput
RUN useradd --create-home app && mkdir -p /app/media /app/beat && chown app /app/media /app/beat
USER app
EXPOSE 8000
# Exec form: gunicorn is the process that receives the stop signal and shuts down gracefully.
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
