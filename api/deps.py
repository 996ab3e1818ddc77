"""Every dependency the routes take, as typed `Annotated[..., Depends(...)]` aliases.

The lifespan (api/app.py) opens the engines and puts them on `app.state`; these accessors are the only code
that reads them back, so a route's signature says everything it uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from api.auth.dependencies import require
from api.auth.principal import Principal
from api.ticket_runner import TicketRunner
from core.services import Services
from core.settings import Settings
from kb.retrieval import HybridRetriever


def get_services(request: Request) -> Services:
    """The engines the lifespan opened."""
    services: Services = request.app.state.services
    return services


def get_settings(request: Request) -> Settings:
    """The app's settings (those given to `create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


def get_runner(request: Request) -> TicketRunner:
    """The app's ticket runner (opened in the lifespan)."""
    runner: TicketRunner = request.app.state.ticket_runner
    return runner


def get_metrics_registry(request: Request) -> CollectorRegistry:
    """The app's database-derived metrics (one registry per app, so tests can build several apps)."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return registry


async def get_kb_retriever(request: Request) -> HybridRetriever:
    """The app's one retriever: its keyword index is built once and refreshed on KB revisions.

    Async on purpose: it runs on the event loop, so two first requests cannot both open it.
    """
    slot: KbRetrieverSlot = request.app.state.kb_retriever
    return slot.get()


class KbRetrieverSlot:
    """The lifespan's handle on the KB retriever, opened at the first search.

    Opened lazily, not at start-up: opening checks the vector store's model, and a KB built with another model
    must still let the app start (GET /kb/status reports the mismatch).
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        self._retriever: HybridRetriever | None = None

    def get(self) -> HybridRetriever:
        """The retriever, opened on the first call."""
        if self._retriever is None:
            self._retriever = HybridRetriever.from_services(self._services)
        return self._retriever


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RunnerDep = Annotated[TicketRunner, Depends(get_runner)]
MetricsRegistryDep = Annotated[CollectorRegistry, Depends(get_metrics_registry)]
KbRetrieverDep = Annotated[HybridRetriever, Depends(get_kb_retriever)]

# Callers by role (admin always passes); 401 without credentials, 403 without the role.
TicketWriter = Annotated[Principal, Depends(require("agent", "service"))]
TicketReader = Annotated[Principal, Depends(require("agent", "service", "reviewer"))]
Reviewer = Annotated[Principal, Depends(require("reviewer"))]
Miner = Annotated[Principal, Depends(require("service"))]
FaqCurator = Annotated[Principal, Depends(require("reviewer", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
