"""LLM adapter: an OpenAI-compatible chat-completions client (vLLM, llama.cpp servers)."""

from adapters.llm.openai_client import OpenAIClientConfig, OpenAICompatibleClient
from adapters.llm.usage import LLMUsageMeter, StageUsage

__all__ = ["LLMUsageMeter", "OpenAIClientConfig", "OpenAICompatibleClient", "StageUsage"]
