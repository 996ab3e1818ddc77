FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
# torch first: the CPU build wherever PyTorch's CPU index is reachable, else the configured index's build
# (scripts/install-torch.sh says which in the build log; on Linux plain PyPI serves the CUDA build).
COPY scripts/install-torch.sh scripts/install-torch.sh
RUN scripts/install-torch.sh
# docker-compose.yml passes its Qdrant server's minor (e.g. 1.12.*); unset, pyproject's range applies.
ARG QDRANT_CLIENT=""
COPY pyproject.toml README.md ./
COPY core core
COPY text text
COPY ops ops
COPY kb kb
COPY graph graph
COPY nodes nodes
COPY state state
COPY faq_mining faq_mining
COPY api api
COPY cli cli
RUN if [ -n "$QDRANT_CLIENT" ]; then echo "qdrant-client==$QDRANT_CLIENT" > /tmp/pins.txt; else : > /tmp/pins.txt; fi \
    && pip install -c /tmp/pins.txt .
EXPOSE 8000
CMD ["doxa", "serve", "--host", "0.0.0.0", "--port", "8000"]
