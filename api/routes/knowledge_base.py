"""Knowledge-base search, status and document upload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import Admin, KbRetrieverDep, ServicesDep, SettingsDep
from api.problems import problem_responses
from api.responses import KbStatus, UploadReport
from api.uploads import safe_filename, store_and_ingest
from kb.retrieval import KbContext
from kb.status import knowledge_base_status

router = APIRouter(prefix="/kb", tags=["knowledge base"])
_SERVER_ERRORS = problem_responses(500, 503)


@router.get("/search", responses={**problem_responses(422), **_SERVER_ERRORS})
async def search_knowledge_base(
    retriever: KbRetrieverDep,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for.")],
    category: Annotated[str | None, Query(max_length=100, description="Only passages of this category.")] = None,
    keywords: Annotated[
        list[str] | None, Query(max_length=20, description="Keywords that boost matching passages.")
    ] = None,
    top_k: Annotated[int, Query(ge=1, le=50, description="Passages to return.")] = 5,
) -> KbContext:
    """Hybrid search with the `retrieve_kb_context` contract: ranked passages and confidence signals."""
    settings = services.settings  # the engines' settings, as the ticket graph's retrieval uses them
    context = await run_in_threadpool(
        retriever.retrieve,
        q,
        keywords,
        category,
        top_k=top_k,
        score_threshold=settings.retrieval_score_threshold,
        kb_confidence_threshold=settings.kb_confidence_threshold,
    )
    return context


@router.get("/status", response_model_exclude_unset=True, responses=_SERVER_ERRORS)
async def knowledge_base_summary(services: ServicesDep) -> KbStatus:
    """Documents, chunks, revision, embedding model and vector-store health."""
    return KbStatus.model_validate(await run_in_threadpool(knowledge_base_status, services))


@router.post(
    "/documents",
    status_code=201,
    responses={
        **problem_responses(401, 403, 413, 422, _413="larger than DOXA_MAX_FILE_BYTES", _422="not readable"),
        **_SERVER_ERRORS,
    },
)
async def upload_document(
    services: ServicesDep,
    settings: SettingsDep,
    principal: Admin,
    file: Annotated[UploadFile, File(description="A Markdown, text or PDF help-centre document.")],
    category: Annotated[str | None, Form(max_length=100, description="Category of every chunk of the file.")] = None,
) -> UploadReport:
    """Save the document under DOXA_HOME/uploads and ingest it; returns the ingest report (422 if unreadable)."""
    filename = safe_filename(file.filename)
    max_bytes = settings.max_file_bytes
    report = await run_in_threadpool(
        lambda: store_and_ingest(services, file.file, filename, category or None, max_bytes=max_bytes)
    )
    return UploadReport.model_validate(report)
