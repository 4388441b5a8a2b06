"""A scenario compiled once into a `transitions` state machine plus lookup tables.

Every node is a machine state and every choice (and every automatic `next`) a trigger whose
guarded transitions are tried in order, exactly as authored. Sessions never get a machine of
their own: a turn points the one shared cursor model at the session's node, fires the trigger
and reads where it landed. Building a machine per session would cost tens of milliseconds and
hundreds of kilobytes each (see BENCHMARKS.md); this costs neither.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from transitions import Machine

from bot.scenario import model as m
from bot.scenario.expr import Env, Evaluator, Value, compile_expression, compile_update

NEXT_TRIGGER = "__next__"


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    type: str
    initial: Value
    min: int | None
    max: int | None

    def coerce(self, value: Value) -> Value:
        if self.type == "bool":
            return bool(value)
        number = int(value)
        if self.min is not None:
            number = max(self.min, number)
        if self.max is not None:
            number = min(self.max, number)
        return number


@dataclass(frozen=True, slots=True)
class CompiledChoice:
    choice: m.Choice
    node: str
    trigger: str
    when: Evaluator | None
    updates: tuple[tuple[int, Evaluator], ...]
    reply: tuple[CompiledLine, ...]


@dataclass(frozen=True, slots=True)
class CompiledLine:
    line: m.Line
    when: Evaluator | None
    variants: tuple[tuple[Evaluator | None, m.LineVariant], ...]


@dataclass(frozen=True, slots=True)
class CompiledNode:
    id: str
    node: m.Node
    updates: tuple[tuple[int, Evaluator], ...]
    say: tuple[CompiledLine, ...]
    fallback: tuple[CompiledLine, ...]
    choices: tuple[CompiledChoice, ...]


class _Cursor:
    """The single model object the shared machine drives; `env` feeds the guards."""

    state: str
    env: Env

    def __init__(self) -> None:
        self.env = {}


class CompiledScenario:
    def __init__(self, scenario: m.Scenario, content_hash: str) -> None:
        self.scenario = scenario
        self.content_hash = content_hash
        self.variables = tuple(
            Variable(name, v.type, v.initial, v.min, v.max)
            for name, v in scenario.variables.items()
        )
        self.variable_index = {v.name: i for i, v in enumerate(self.variables)}
        self.initial_values: tuple[Value, ...] = tuple(v.coerce(v.initial) for v in self.variables)
        names = list(self.variable_index)
        self._names = names
        self.nodes: dict[str, CompiledNode] = {
            node_id: self._compile_node(node_id, node) for node_id, node in scenario.nodes.items()
        }
        self.choices: dict[str, CompiledChoice] = {
            c.choice.id: c for node in self.nodes.values() for c in node.choices
        }
        self.scenario_fallback = tuple(self._compile_line(line) for line in scenario.fallback)
        self._cursor = _Cursor()
        self._lock = threading.Lock()
        self.machine = self._build_machine()

    def env(self, values: tuple[Value, ...]) -> dict[str, Value]:
        return dict(zip(self._names, values, strict=True))

    def fire(self, node: str, trigger: str, env: Mapping[str, Value]) -> str | None:
        """Fire `trigger` at `node`; the node it lands on, or None if no guard held."""
        with self._lock:
            cursor = self._cursor
            cursor.state = node
            cursor.env = env
            moved = bool(cursor.trigger(trigger))  # type: ignore[attr-defined]
            return cursor.state if moved else None

    # -- compilation -------------------------------------------------------------------------

    def _compile_updates(
        self, updates: Mapping[str, Value | str]
    ) -> tuple[tuple[int, Evaluator], ...]:
        return tuple(
            (self.variable_index[name], compile_update(value, name, self._names).evaluate)
            for name, value in updates.items()
        )

    def _condition(self, source: str | None) -> Evaluator | None:
        return compile_expression(source, self._names).evaluate if source else None

    def _compile_line(self, line: m.Line) -> CompiledLine:
        variants = tuple((self._condition(v.when), v) for v in line.variants)
        return CompiledLine(line, self._condition(line.when), variants)

    def _compile_node(self, node_id: str, node: m.Node) -> CompiledNode:
        choices = tuple(
            CompiledChoice(
                choice=choice,
                node=node_id,
                trigger=f"choose:{choice.id}",
                when=self._condition(choice.when),
                updates=self._compile_updates(choice.set),
                reply=tuple(self._compile_line(line) for line in choice.reply),
            )
            for choice in node.choices
        )
        return CompiledNode(
            id=node_id,
            node=node,
            updates=self._compile_updates(node.set),
            say=tuple(self._compile_line(line) for line in node.say),
            fallback=tuple(self._compile_line(line) for line in node.fallback),
            choices=choices,
        )

    def _build_machine(self) -> Machine:
        machine = Machine(
            model=self._cursor,
            states=list(self.nodes),
            initial=self.scenario.start,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            model_override=False,
        )
        for node in self.nodes.values():
            for compiled in node.choices:
                self._add(machine, compiled.trigger, node.id, compiled.choice.goto)
            if node.node.next is not None:
                self._add(machine, NEXT_TRIGGER, node.id, node.node.next)
        return machine

    def _add(self, machine: Machine, trigger: str, source: str, target: m.Target | None) -> None:
        if target is None:  # stay: an internal transition keeps the node and re-enters nothing
            machine.add_transition(trigger, source, None)
        elif isinstance(target, str):
            machine.add_transition(trigger, source, target)
        else:
            for branch in target:
                guard = self._guard(branch.when)
                conditions: list[str | Callable[..., bool | None]] = [guard] if guard else []
                machine.add_transition(trigger, source, branch.to, conditions=conditions)

    def _guard(self, source: str | None) -> Callable[[], bool] | None:
        evaluate = self._condition(source)
        if evaluate is None:
            return None
        cursor = self._cursor
        return lambda: bool(evaluate(cursor.env))
