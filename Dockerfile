FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
# CPU-only torch first, from PyTorch's CPU index, so no CUDA wheels are pulled.
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY core core
COPY kb kb
COPY graph graph
COPY nodes nodes
COPY state state
COPY faq_mining faq_mining
COPY api api
COPY cli cli
RUN pip install .
EXPOSE 8000
CMD ["doxa", "serve", "--host", "0.0.0.0", "--port", "8000"]
