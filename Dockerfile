# fuqing (妇情通): the API and chat channels on port 8000, data in the /app/data volume.
#   docker build -t fuqing .
#   docker run -p 8000:8000 -v fuqing-data:/app/data -e FUQING_SECRET_KEY=… fuqing
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 fuqing

WORKDIR /src
COPY . .
RUN pip install . \
    && rm -rf /src \
    && mkdir -p /app/data \
    && chown fuqing:fuqing /app/data

WORKDIR /app
ENV FUQING_DATABASE_URL=sqlite:////app/data/fuqing.db
VOLUME /app/data
USER fuqing
EXPOSE 8000

# `serve` migrates the SQLite database itself on start.
CMD ["fuqing", "serve", "--host", "0.0.0.0", "--port", "8000"]
