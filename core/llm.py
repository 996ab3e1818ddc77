"""The chat-model factory: Mistral when MISTRAL_API_KEY is set, otherwise no model (offline backend).

Nodes never build clients: the model built here travels in the graph's runtime context, and a node
whose context has no model takes its deterministic offline path.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from core.settings import Settings


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or None when no API key is set."""
    if not settings.llm_enabled or settings.mistral_api_key is None:
        return None
    from langchain_mistralai import ChatMistralAI

    return ChatMistralAI(
        model_name=settings.mistral_model,
        api_key=settings.mistral_api_key,
        temperature=0,
        timeout=int(settings.llm_timeout_s),
        # Retries belong to the graphs (RetryPolicy with backoff, then the offline path); client-side
        # retries would multiply inside each of those attempts. (This client counts attempts: 1 = no retry.)
        max_retries=1,
    )
