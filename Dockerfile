# TrueVoice production image. Build: docker build -t truevoice .
#   GPU scoring (onnxruntime-gpu):   docker build --build-arg TRUEVOICE_EXTRAS=gpu -t truevoice:gpu .
# The image talks to a ClickHouse server (TRUEVOICE_CLICKHOUSE_URL): it carries neither chdb
# (extra `embedded`) nor the training/export tool-chain (extra `train`: torch, optimum, onnx).
FROM python:3.11-slim AS build
ARG TRUEVOICE_EXTRAS=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
# The SQL migrations and the ONNX models are package data of the wheel (tables/clickhouse/sql,
# scoring/models; see pyproject.toml), so nothing is copied beside it.
RUN if [ -n "$TRUEVOICE_EXTRAS" ]; then spec=".[$TRUEVOICE_EXTRAS]"; else spec="."; fi \
 && pip wheel --wheel-dir /wheels "$spec"

FROM python:3.11-slim
ARG TRUEVOICE_EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TRUEVOICE_DATA_DIR=/var/lib/truevoice TRUEVOICE_WEB_HOST=0.0.0.0 TRUEVOICE_WEB_PORT=6066
RUN groupadd --system --gid 10001 truevoice \
 && useradd --system --uid 10001 --gid truevoice --home-dir /var/lib/truevoice --create-home --shell /usr/sbin/nologin truevoice
COPY --from=build /wheels /wheels
RUN if [ -n "$TRUEVOICE_EXTRAS" ]; then spec="truevoice[$TRUEVOICE_EXTRAS]"; else spec="truevoice"; fi \
 && pip install --no-index --find-links=/wheels "$spec" && rm -rf /wheels \
 && ! pip show chdb torch optimum >/dev/null 2>&1
WORKDIR /var/lib/truevoice
USER truevoice
VOLUME ["/var/lib/truevoice"]
EXPOSE 6066
# ready = the broker, ClickHouse and the models reachable (a 503 from /ready fails the check)
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=5 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('TRUEVOICE_WEB_PORT','6066'), timeout=4)" || exit 1
ENTRYPOINT ["truevoice"]
CMD ["worker"]
