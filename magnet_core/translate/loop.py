"""Back-and-forth translation of one plan, turn by turn, against the scenario's own backend session.

For each turn: draft the calls, write the query from them, and take as reference calls the drafts or
what a call-writer model reads from the query step by step (see `writing.py`); execute them in order on
the session and let the outputs feed the next call and the next turn. Every argument value must be
grounded in a query, the starting state or an earlier output (`ungrounded_value` otherwise). A miss_func/miss_param turn executes nothing: its calls
are a draft that only shapes the query. A turn that announces the function the miss_func turn before it
withheld (see `withhold.py`) does that pending ask: its query is the announcement, its call the draft
(offline) or what the call writer reads from the pending ask (with a model), executed now. One session
per scenario, never shared.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.plans import Plan, PlanTurn, TurnLabel
from magnet_core.domain.trajectory import CallResult, Reject, Scenario, Turn
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.announcer import announcement_text
from magnet_core.roles.call_writer import WrittenCall, write_call_offline
from magnet_core.roles.llm_role import ITEM_LLM_ERRORS, LLMClientLike, prompt_versions
from magnet_core.graph.features import premise_values
from magnet_core.roles.values import ValueContext
from magnet_core.translate.initial_state import initial_state_for
from magnet_core.translate.models import TRANSLATE_ROLES, CallTally, TranslateConfig, TranslatedScenario
from magnet_core.translate.given_values import reused_withheld_values
from magnet_core.translate.miss_param import choose_omission, record_param_swaps
from magnet_core.translate.withhold import announced_turns, withhold_uncalled
from magnet_core.translate.writing import TranslationFailed, draft_turn, execute_reference, write_calls, write_query
from magnet_core.verify.grounding import known_values, require_grounded, ungrounded_values

STAGE = "translate"
__all__ = ["TranslationFailed", "offered_for", "translate_plan", "withhold_uncalled"]


@dataclass(frozen=True)
class PendingAsk:
    """A miss_func turn's ask, done by the next turn once its function is announced."""

    query: str
    history: list[dict[str, Any]]
    draft: WrittenCall


def offered_for(pool: FunctionPool, plan: Plan) -> tuple[list[str], list[str]]:
    """(functions shown as tools, functions the session runs). Whole tool classes are offered, as in BFCL;
    miss_func functions are hidden from the tools but kept in the session so the draft can be checked."""
    needed = [name for turn in plan.turns for name in (*turn.functions, turn.withheld_function) if name]
    classes = {pool.spec(name).tool_class for name in needed}
    if None in classes:
        session_names = sorted(set(needed))
    else:
        session_names = sorted(spec.qualified_name for name in classes for spec in pool.class_specs(name))
    hidden = {turn.withheld_function for turn in plan.turns if turn.label is TurnLabel.MISS_FUNC}
    return [name for name in session_names if name not in hidden], session_names


async def translate_plan(pool: FunctionPool, plan: Plan, config: TranslateConfig, client: LLMClientLike | None,
                         tally: CallTally) -> TranslatedScenario | Reject:
    scenario_id = f"{plan.plan_id}-s{config.seed}"
    try:
        plan = withhold_uncalled(plan, pool, config.seed)
        tools, session_names = offered_for(pool, plan)
        announced = announced_turns(plan)
        _check_plan(plan, pool, announced)
    except (KeyError, TranslationFailed) as error:
        detail = error.detail if isinstance(error, TranslationFailed) else str(error)
        return Reject(stage=STAGE, item_id=scenario_id, reason="invalid_plan", detail=detail, payload={"plan_id": plan.plan_id})
    rng = random.Random(f"{config.seed}:{plan.plan_id}")
    classes = sorted({pool.spec(name).tool_class for name in session_names if pool.spec(name).tool_class})
    state_seed = hash_seed(config.seed, plan.plan_id)
    initial_state = initial_state_for(classes, state_seed) if pool.kind == "bfcl" else pool.scenario_state(classes, state_seed)
    scenario = Scenario(scenario_id=scenario_id, plan=plan, pool=pool.name, initial_state=initial_state, seed=config.seed)
    session = pool.new_session(session_names, initial_state)
    known = Knowledge(initial_state, known_values([initial_state, session.state()]))
    context = ValueContext(premises=premise_values([pool.spec(name) for turn in plan.turns for name in turn.functions]))
    turns: list[Turn] = []
    failures: list[str] = []
    cost = 0.0
    history: list[dict[str, Any]] = []
    pending: PendingAsk | None = None
    asked: WrittenCall | None = None  # a miss_param turn's draft: the next turn does this ask, value supplied
    with CallExecutor(session, timeout_s=config.call_timeout_s) as executor:
        for index, plan_turn in enumerate(plan.turns):
            try:
                if index in announced and pending is not None:
                    turn, turn_cost = await _translate_unlock(pool, announced[index], index, tools, pending, executor,
                                                              context, known, rng, config, client, tally)
                    known.check(turn, pool)
                    pending = None
                else:
                    turn, turn_cost, draft = await _translate_turn(pool, plan_turn, index, tools, session, executor, context,
                                                                   history, known, rng, config, client, tally, asked)
                    known.check(turn, pool)
                    pending = PendingAsk(turn.query, list(history), draft) if turn.label is TurnLabel.MISS_FUNC else None
                    asked = draft if turn.label is TurnLabel.MISS_PARAM else None
            except TranslationFailed as error:
                return Reject(stage=STAGE, item_id=scenario_id, reason=error.reason, detail=error.detail,
                              payload={"plan_id": plan.plan_id, "turn": index})
            except ITEM_LLM_ERRORS as error:  # a budget stop propagates: the run halts and stays resumable
                return Reject(stage=STAGE, item_id=scenario_id, reason="llm_error", detail=f"{type(error).__name__}: {error}",
                              payload={"plan_id": plan.plan_id, "turn": index})
            cost += turn_cost
            failures += [f"turn {index}: {r.call.to_bfcl()} -> {r.error}" for r in turn.results if not r.ok]
            turns.append(turn)
            known.learn(turn)
            history += _history_messages(turn)
    reused = reused_withheld_values(tuple(turns), pool.plain_name_of)
    if reused:
        return Reject(stage=STAGE, item_id=scenario_id, reason="miss_param_value_given", detail="; ".join(reused),
                      payload={"plan_id": plan.plan_id})
    if failures:
        return Reject(stage=STAGE, item_id=scenario_id, reason="execution_error", detail="; ".join(failures)[:2000],
                      payload={"plan_id": plan.plan_id, "failed_calls": len(failures)})
    models = config.models.names(TRANSLATE_ROLES)
    scenario = scenario.model_copy(update={"plan": record_param_swaps(plan, turns)})
    return TranslatedScenario(scenario=scenario, turns=tuple(turns), offered_functions=tuple(tools),
                              simulated=session.simulated, models=models, prompt_versions=prompt_versions(TRANSLATE_ROLES),
                              cost_usd=cost)


def hash_seed(seed: int, item_id: str) -> int:
    return int.from_bytes(f"{seed}:{item_id}".encode()[:24].ljust(24, b"\0"), "big") % (2**31)


def _check_plan(plan: Plan, pool: FunctionPool, announced: dict[int, str]) -> None:
    hidden = {turn.withheld_function for turn in plan.turns if turn.label is TurnLabel.MISS_FUNC}
    called = (set(plan.functions) & hidden) - set(announced.values())
    if called:
        raise TranslationFailed("invalid_plan", f"miss_func functions {sorted(called)} are also called by a turn")
    for turn in plan.turns:
        if turn.label is TurnLabel.MISS_PARAM and turn.withheld_param not in pool.spec(turn.withheld_function).param_properties:
            raise TranslationFailed("invalid_plan", f"{turn.withheld_function} has no parameter {turn.withheld_param!r}")


class Knowledge:
    """What the user could know so far: the starting state, every query, every output. A turn whose
    argument values come from none of these fails as `ungrounded_value` (the value named)."""

    def __init__(self, initial_state: dict[str, Any], known: set[str]):
        self.initial_state = initial_state
        self.known = known
        self.texts: list[str] = []

    def check(self, turn: Turn, pool: FunctionPool) -> None:
        if not turn.reference_calls:
            return
        known = self.known | known_values([r.output for r in turn.results if r.ok])
        schemas = {pool.spec(n).name: pool.spec(n).parameters for n in (*turn.offered_functions, *turn.announced_functions)}
        missing = ungrounded_values(list(turn.reference_calls), schemas, [*self.texts, turn.query], known)
        if missing:
            raise TranslationFailed("ungrounded_value", f"turn {turn.index}: {missing[:5]} appear in no query, "
                                                        "starting state or earlier output")

    def query_check(self, drafts: list[WrittenCall], schemas: dict[str, dict[str, Any]]) -> Callable[[str], None]:
        """For the query writer over calls already made: each value they use is in the query, an earlier one or
        what is known (values an output of this turn supplies are referred to, not stated), or it is re-asked."""
        stated = [FunctionCall(name=d.call.name, arguments={k: v for k, v in d.call.arguments.items()
                                                            if d.sources.get(k) != "output"}) for d in drafts]

        def check(query: str) -> None:
            require_grounded(stated, schemas, [*self.texts, query], self.known, "query writer: the message must state")
        return check

    def call_check(self, query: str, schemas: dict[str, dict[str, Any]]) -> Callable[[FunctionCall, list[CallResult]], None]:
        """For the call writer: `check` as above for one call, earlier outputs of the turn included, so an
        ungrounded call is re-asked instead of failing the scenario as `ungrounded_value`."""
        def check(call: FunctionCall, earlier: list[CallResult]) -> None:
            known = self.known | known_values([r.output for r in earlier if r.ok])
            require_grounded([call], schemas, [*self.texts, query], known,
                             "call writer: neither the conversation nor an output gives")
        return check

    def learn(self, turn: Turn) -> None:
        self.texts.append(turn.query)
        self.known |= known_values([r.output for r in turn.results if r.ok])


async def _translate_unlock(pool: FunctionPool, name: str, index: int, tools: list[str], pending: PendingAsk,
                            executor: CallExecutor, context: ValueContext, known: Knowledge, rng: random.Random,
                            config: TranslateConfig, client: LLMClientLike | None, tally: CallTally) -> tuple[Turn, float]:
    """The user announces `name` (the offline template also when a query writer model is configured: the
    announcement is fixed text plus the schema); the assistant does the pending ask with it."""
    spec = pool.spec(name)
    query = announcement_text([spec], rng)
    if config.models.call_writer is None:
        result, cost = await execute_reference(pending.draft.call, spec, executor, context, config, client, tally)
        calls, results = [pending.draft.call], [result]
    else:
        offered = [pool.spec(n).to_openai_tool() for n in tools] + [spec.to_openai_tool()]
        calls, results, cost = await write_calls(pending.query, pending.history, [spec], offered, executor, context,
                                                 config, client, tally, check=known.call_check(pending.query, _schemas(offered)))
    return Turn(index=index, query=query, reference_calls=tuple(calls), results=tuple(results), offered_functions=tuple(tools),
                announced_functions=(name,)), cost


async def _translate_turn(pool, plan_turn: PlanTurn, index, tools, session, executor, context, history, known, rng,
                          config, client, tally, asked: WrittenCall | None = None) -> tuple[Turn, float, WrittenCall | None]:
    """A turn as the plan has it; for a miss_func/miss_param turn also the draft that shaped its query.
    `asked`: the miss_param draft the turn before shaped its ask with; offline, the first call does it."""
    offered = tuple(tools)
    if plan_turn.label is not TurnLabel.NORMAL:
        spec = pool.spec(plan_turn.withheld_function)
        draft = write_call_offline(spec, session, context, rng, probe=config.probe_values)
        omit = plan_turn.withheld_param if plan_turn.label is TurnLabel.MISS_PARAM else None
        if omit:  # never leave out a value the conversation already gave
            draft, omit, why = choose_omission(spec, draft, omit, history, session, context, rng, config.probe_values)
            if draft is None:
                raise TranslationFailed("miss_param_value_given", why)
        if omit and omit not in draft.call.arguments:
            draft = WrittenCall(FunctionCall(name=spec.name, arguments={**draft.call.arguments, omit: "?"}), draft.sources)
        query, cost = await write_query(pool, [spec], [draft], omit, history, known.initial_state, rng, config, client)
        turn = Turn(index=index, label=plan_turn.label, query=query, offered_functions=offered,
                    withheld_function=plan_turn.withheld_function, withheld_param=omit)
        return turn, cost, draft
    specs = [pool.spec(name) for name in plan_turn.functions]
    offered_tools = [pool.spec(n).to_openai_tool() for n in tools]
    if config.models.call_writer is None:
        written, results, cost = [], [], 0.0
        for position, spec in enumerate(specs):
            if position == 0 and asked is not None and asked.call.name == spec.name and asked.accepted_by_probe is not False:
                call = asked
            else:
                call = write_call_offline(spec, session, context, rng, probe=config.probe_values)
            result, call_cost = await execute_reference(call.call, spec, executor, context, config, client, tally)
            results.append(result)
            written.append(call)
            cost += call_cost
        query, query_cost = await write_query(pool, specs, written, None, history, known.initial_state, rng, config, client,
                                              check=known.query_check(written, _schemas(offered_tools)))
        return Turn(index=index, query=query, reference_calls=tuple(w.call for w in written), results=tuple(results),
                    offered_functions=offered), cost + query_cost, None
    drafts = await draft_turn(specs, session, context, rng, config, asked)
    # the drafts only guide the query here: the calls are what the call writer reads from it, checked as written
    query, cost = await write_query(pool, specs, drafts, None, history, known.initial_state, rng, config, client)
    calls, results, calls_cost = await write_calls(query, history, specs, offered_tools, executor, context, config, client,
                                                   tally, check=known.call_check(query, _schemas(offered_tools)))
    return Turn(index=index, query=query, reference_calls=tuple(calls), results=tuple(results),
                offered_functions=offered), cost + calls_cost, None


def _schemas(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {tool["function"]["name"]: tool["function"].get("parameters", {}) for tool in tools}


def _history_messages(turn: Turn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": turn.query}]
    for position, result in enumerate(turn.results):
        call_id = f"t{turn.index}c{position}"
        messages.append({"role": "assistant", "content": None, "tool_calls": [result.call.to_openai_tool_call(call_id)]})
        messages.append({"role": "tool", "tool_call_id": call_id, "content": result.output_text()})
    return messages

