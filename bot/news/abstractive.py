"""Optional abstractive summaries from an OpenAI-compatible chat-completions endpoint.

Off unless SUMMARY_API_URL is set. Any failure (timeout, HTTP error, odd JSON, an empty
answer) raises AbstractiveError, and the caller falls back to the extractive summary.
"""

from __future__ import annotations

import httpx

MAX_INPUT_CHARS = 12_000
MAX_SUMMARY_CHARS = 900
PROMPT = (
    "Summarise this news article in 3 to 5 plain sentences (about 600 characters). "
    "Keep who, what, when, where and the source of the claims. Do not add facts, "
    "opinions or a headline."
)


class AbstractiveError(Exception):
    """The endpoint gave no usable summary; the message says why."""


class AbstractiveSummarizer:
    """A client for one chat-completions endpoint and model."""

    def __init__(
        self, url: str, *, api_key: str = "", model: str = "", timeout: float = 20.0
    ) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model or "gpt-4o-mini"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(timeout=timeout, headers=headers, trust_env=False)

    @property
    def cache_tag(self) -> str:
        """Tells cached abstractive summaries apart from extractive ones (and across models)."""
        return f"llm:{self.model}"

    async def summarize(self, text: str, *, title: str | None = None) -> str:
        """Ask the endpoint for a summary of the article."""
        article = (f"Title: {title}\n\n" if title else "") + text[:MAX_INPUT_CHARS]
        payload = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": PROMPT},
                {"role": "user", "content": article},
            ],
            "temperature": 0.2,
        }
        try:
            response = await self._client.post(self.url, json=payload)
        except httpx.HTTPError as exc:
            raise AbstractiveError(f"endpoint unreachable: {exc.__class__.__name__}") from None
        if response.status_code != 200:
            raise AbstractiveError(f"endpoint answered HTTP {response.status_code}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise AbstractiveError("endpoint answered without a summary") from None
        summary = " ".join(str(content or "").split())
        if not summary:
            raise AbstractiveError("endpoint answered with an empty summary")
        return summary[:MAX_SUMMARY_CHARS]

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
