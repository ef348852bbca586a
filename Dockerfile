# TrueVoice production image (CPU). Build: docker build -t truevoice .
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TRUEVOICE_HOME=/opt/truevoice TRUEVOICE_DATA_DIR=/var/lib/truevoice TRUEVOICE_WEB_HOST=0.0.0.0 TRUEVOICE_WEB_PORT=6066
RUN groupadd --system --gid 10001 truevoice \
 && useradd --system --uid 10001 --gid truevoice --home-dir /var/lib/truevoice --create-home --shell /usr/sbin/nologin truevoice
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels truevoice && rm -rf /wheels
# The model files and SQL ship as package data; onnx/ and clickhouse/ are copied as plain folders
# (they are deliberately not importable packages, see README).
COPY --chown=truevoice:truevoice onnx /opt/truevoice/onnx
COPY --chown=truevoice:truevoice clickhouse /opt/truevoice/clickhouse
WORKDIR /opt/truevoice
USER truevoice
VOLUME ["/var/lib/truevoice"]
EXPOSE 6066
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=5 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('TRUEVOICE_WEB_PORT','6066'), timeout=4)" || exit 1
ENTRYPOINT ["truevoice"]
CMD ["worker"]
