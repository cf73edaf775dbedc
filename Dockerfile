# syntax=docker/dockerfile:1
# tiergate image: docker build -t ghcr.io/tiergate/tiergate:0.1.0 .
# Runtime contract (k8s/base/deployment.yaml): uid 10001, port 8080, read-only root filesystem
# with a writable /tmp, config at /etc/tiergate/tiergate.yaml.

FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/tiergate
WORKDIR /src

# Dependencies alone first, so this layer is rebuilt only when uv.lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself, installed as a wheel (not editable) so the runtime stage needs no sources.
COPY README.md ./
COPY app ./app
COPY domain ./domain
COPY adapters ./adapters
COPY infra ./infra
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable


FROM python:3.11-slim
LABEL org.opencontainers.image.title="tiergate" \
      org.opencontainers.image.description="A cost-aware, OpenAI-compatible LLM gateway" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 tiergate \
 && useradd --system --uid 10001 --gid tiergate --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin tiergate
# Owned by root and read-only to the app user; bytecode is precompiled in the build stage.
COPY --from=build /opt/tiergate /opt/tiergate
ENV PATH=/opt/tiergate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["tiergate", "serve"]
CMD ["--config", "/etc/tiergate/tiergate.yaml"]
