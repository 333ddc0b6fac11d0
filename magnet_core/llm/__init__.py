"""The one LLM client every role shares (litellm underneath), and its local test server.

Importing this package does not import litellm (seconds, and network unless told otherwise); the client
imports it offline on the first call (`litellm_loader.import_litellm`).
"""

from magnet_core.llm.admission import AdmissionConfig
from magnet_core.llm.breaker import BreakerConfig
from magnet_core.llm.client import LLMClient
from magnet_core.llm.ledger import CallRecord, Totals, Usage
from magnet_core.llm.retry import RetryPolicy
from magnet_core.llm.types import (
    BudgetExceededError,
    CircuitOpenError,
    LLMError,
    LLMPermanentError,
    LLMRequestError,
    LLMSetupError,
    LLMRequest,
    LLMResponse,
    LLMTransientExhausted,
    ModelConfig,
)

__all__ = [
    "AdmissionConfig", "BreakerConfig", "BudgetExceededError", "CallRecord", "CircuitOpenError", "LLMClient",
    "LLMError", "LLMPermanentError", "LLMRequest", "LLMRequestError", "LLMSetupError", "LLMResponse", "LLMTransientExhausted", "ModelConfig",
    "RetryPolicy", "Totals", "Usage",
]
