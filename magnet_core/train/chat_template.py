"""The Qwen2.5 chat template with `{% generation %}` markers, taken from the installed TRL.

TRL's assistant-only loss reads the generation markers to build the assistant mask; reusing TRL's
shipped training variant keeps our rendering identical to the Qwen2.5 format models are served with.
"""

from __future__ import annotations

from trl.chat_template_utils import qwen2_5_training_chat_template

QWEN25_TRAINING_TEMPLATE: str = qwen2_5_training_chat_template
