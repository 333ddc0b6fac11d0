"""Domain objects <-> table rows.

Messages, tools, metadata and reject payloads become JSON text here and nowhere else: Arrow would
otherwise merge every tool call's arguments into one struct and fill the keys a call did not pass
with nulls. Messages are stored in the form chat templates render (`ChatMessage.to_template`:
arguments as objects, no null content); reading them back restores `None` content on assistant
messages that only carry tool calls, which is how the domain model writes them.
"""

from __future__ import annotations

import json
import re
from enum import Enum
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel

from magnet_core.domain import ChatMessage, PreferencePair, Reject, Trajectory

_SECRET_KEY = re.compile(r"api[_-]?key|apikey|secret|password|authorization|bearer", re.IGNORECASE)
REDACTED = "[redacted]"


# Conversation content and backend environments are data, not configuration: a BFCL backend's
# `password` field or a call's `api_key` argument must round-trip exactly, so they are not scrubbed.
_VERBATIM = frozenset({"initial_state", "messages", "prompt", "chosen", "rejected", "tools", "arguments", "calls"})


def scrub_secrets(data: Any) -> Any:
    """Metadata and reject payloads are free-form; a value under a key that names a credential never reaches disk."""
    if isinstance(data, dict):
        return {
            key: data[key] if key in _VERBATIM else REDACTED if _SECRET_KEY.search(str(key)) else scrub_secrets(data[key])
            for key in data
        }
    if isinstance(data, (list, tuple)):
        return [scrub_secrets(item) for item in data]
    return data


def _jsonable(value: Any) -> Any:
    """Typed values stage authors put in metadata (models, enums, paths); anything else is refused."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def dumps(data: Any) -> str:
    """Strict JSON (NaN refused) so every stored value reads back as what was written."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, default=_jsonable)


def messages_json(messages: tuple[ChatMessage, ...]) -> str:
    return dumps([message.to_template() for message in messages])


def messages_from_rows(rows: list[dict[str, Any]]) -> tuple[ChatMessage, ...]:
    restored = []
    for row in rows:
        row = dict(row)
        if row.get("role") == "assistant" and row.get("tool_calls") and row.get("content") == "":
            row["content"] = None
        restored.append(ChatMessage.from_openai(row))
    return tuple(restored)


def trajectory_offline(metadata: dict[str, Any]) -> bool:
    """Unknown provenance counts as offline: the label errs on the side of saying no teacher was used."""
    return bool(metadata.get("offline", True))


def sft_row(trajectory: Trajectory) -> dict[str, Any]:
    metadata = scrub_secrets(trajectory.metadata)
    return {
        "id": trajectory.trajectory_id,
        "category": str(trajectory.metadata.get("category", "")),
        "scenario_id": trajectory.scenario_id,
        "offline": trajectory_offline(trajectory.metadata),
        "messages": messages_json(trajectory.messages),
        "tools": dumps(list(trajectory.tools)),
        "metadata": dumps(metadata),
    }


def preference_row(pair: PreferencePair) -> dict[str, Any]:
    return {
        "id": pair.pair_id,
        "category": str(pair.metadata.get("category", "")),
        "scenario_id": pair.scenario_id,
        "offline": trajectory_offline(pair.metadata),
        "differing_turn": pair.differing_turn,
        "error_type": pair.error_type,
        "reason": pair.reason,
        "prompt": messages_json(pair.prompt),
        "chosen": messages_json(pair.chosen),
        "rejected": messages_json(pair.rejected),
        "tools": dumps(list(pair.tools)),
        "metadata": dumps(scrub_secrets(pair.metadata)),
    }


def reject_row(reject: Reject) -> dict[str, Any]:
    return reject_columns(reject.stage, reject.item_id, reject.reason, reject.detail, _payload_json(reject.payload))


def reject_columns(stage: str, item_id: str, reason: str, detail: str, payload_json: str) -> dict[str, Any]:
    """A rejects-table row whose payload is already JSON text (`reject_row`, `row_payload_json`)."""
    return {"stage": stage, "item_id": item_id, "reason": reason, "detail": detail, "payload": payload_json}


def _payload_json(payload: dict[str, Any]) -> str:
    """An upstream reject may carry what could not be stored (that is often why it was rejected):
    keep its text form rather than fail the whole version or lose the record."""
    payload = {key: value.model_dump(mode="json") if isinstance(value, BaseModel) else value for key, value in payload.items()}
    try:
        return dumps(scrub_secrets(payload))
    except (TypeError, ValueError) as error:
        return dumps({"unserializable_payload": repr(scrub_secrets(payload))[:20_000], "error": str(error)})


# The columns that hold JSON text: a payload made from a row embeds their text as is (it is strict JSON).
_JSON_COLUMNS = frozenset({"messages", "tools", "metadata", "prompt", "chosen", "rejected"})


def row_payload_json(row: dict[str, Any]) -> str:
    """A removed sample's reject payload: `{"kind": ..., "row": <the row it would have had>}`.

    The row was made (and scrubbed) when the sample was read, so the payload is composed from its text
    rather than from the sample again; `trajectory_from_row` / `pair_from_row` restore the sample from it."""
    kind = "preference_pair" if "chosen" in row else "trajectory"
    plain = dumps({key: value for key, value in row.items() if key not in _JSON_COLUMNS})  # '{"id": ..., ...}'
    embedded = "".join(f', "{key}": {value}' for key, value in row.items() if key in _JSON_COLUMNS)
    return f'{{"kind": "{kind}", "row": {plain[:-1]}{embedded}}}}}'


def sample_payload(sample: Trajectory | PreferencePair) -> dict[str, Any]:
    """The whole sample, so a removed row can be inspected or restored from the rejects table.

    It holds the (frozen) sample itself, dumped only when its row is written (`reject_row`) or hashed:
    thousands of surplus samples must not each keep a second, expanded copy in memory."""
    kind = "trajectory" if isinstance(sample, Trajectory) else "preference_pair"
    return {"kind": kind, "sample": sample}


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def trajectory_from_row(row: dict[str, Any]) -> Trajectory:
    """Accepts rows as pandas gives them (JSON text) or as `datasets` gives them (decoded objects)."""
    return Trajectory(
        trajectory_id=row["id"],
        messages=messages_from_rows(_decoded(row["messages"])),
        tools=tuple(_decoded(row["tools"])),
        scenario_id=row.get("scenario_id"),
        metadata=_decoded(row["metadata"]),
    )


def pair_from_row(row: dict[str, Any]) -> PreferencePair:
    return PreferencePair(
        pair_id=row["id"],
        prompt=messages_from_rows(_decoded(row["prompt"])),
        chosen=messages_from_rows(_decoded(row["chosen"])),
        rejected=messages_from_rows(_decoded(row["rejected"])),
        tools=tuple(_decoded(row["tools"])),
        differing_turn=int(row["differing_turn"]),
        error_type=row["error_type"],
        reason=row["reason"],
        scenario_id=row.get("scenario_id"),
        metadata=_decoded(row["metadata"]),
    )
