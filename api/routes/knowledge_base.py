"""Knowledge-base search, status and document upload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from api.auth.dependencies import require
from api.auth.principal import Principal
from api.deps import ServicesDep
from api.uploads import safe_filename, store_and_ingest
from kb.retrieval import HybridRetriever
from kb.status import knowledge_base_status

router = APIRouter(prefix="/kb", tags=["knowledge base"])


def retriever_of(request: Request, services: ServicesDep) -> HybridRetriever:
    """One retriever per app: its keyword index is built once and refreshed on KB revisions."""
    retriever: HybridRetriever | None = getattr(request.app.state, "retriever", None)
    if retriever is None:
        retriever = HybridRetriever.from_services(services)
        request.app.state.retriever = retriever
    return retriever


@router.get("/search")
async def search(
    request: Request,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for.")],
    category: Annotated[str | None, Query(max_length=100, description="Only passages of this category.")] = None,
    keywords: Annotated[
        list[str] | None, Query(max_length=20, description="Keywords that boost matching passages.")
    ] = None,
    top_k: Annotated[int, Query(ge=1, le=50, description="Passages to return.")] = 5,
) -> dict[str, Any]:
    """Hybrid search with the `retrieve_kb_context` contract: ranked passages and confidence signals."""
    settings = services.settings
    retriever = retriever_of(request, services)
    context = await run_in_threadpool(
        retriever.retrieve,
        q,
        keywords,
        category,
        top_k=top_k,
        score_threshold=settings.retrieval_score_threshold,
        kb_confidence_threshold=settings.kb_confidence_threshold,
    )
    return dict(context)


@router.get("/status")
async def status(services: ServicesDep) -> dict[str, Any]:
    """Documents, chunks, revision, embedding model and vector-store health."""
    return await run_in_threadpool(knowledge_base_status, services)


@router.post(
    "/documents",
    status_code=201,
    responses={401: {}, 403: {}, 413: {"description": "larger than DOXA_MAX_FILE_BYTES"}, 422: {}},
)
async def upload_document(
    request: Request,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require("admin"))],
    file: Annotated[UploadFile, File(description="A Markdown, text or PDF help-centre document.")],
    category: Annotated[str | None, Form(max_length=100, description="Category of every chunk of the file.")] = None,
) -> dict[str, Any]:
    """Save the document under DOXA_HOME/uploads and ingest it; returns the ingest report (422 if unreadable)."""
    filename = safe_filename(file.filename)
    max_bytes = request.app.state.settings.max_file_bytes
    return await run_in_threadpool(
        lambda: store_and_ingest(services, file.file, filename, category or None, max_bytes=max_bytes)
    )
