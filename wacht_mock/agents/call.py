"""What the engine is told about one agent execution."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, cast, overload

from .blocks import Block, HistoryTurn, TextBlock
from .runstate import RunState, Task

if TYPE_CHECKING:
    from .declaration import Declaration

CallKind = Literal["new_message", "continue", "stream", "user_input_response"]


@dataclass(frozen=True)
class ContextView:
    """What the engine sees of an execution context."""

    id: str
    title: str
    system_instructions: str | None
    context_group: str | None
    status: str


class TurnLike(Protocol):
    """What the engine reads of a stored turn: its role, its blocks and their text."""

    @property
    def role(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def blocks(self) -> tuple[Block, ...]: ...


T = TypeVar("T", bound=TurnLike)


def count_words(text: str | None) -> int:
    """The words of a text, as usage estimates count them."""
    return len(text.split()) if text else 0


class History(Sequence[HistoryTurn]):
    """The turns before a call: a read-only view of a conversation, shared, never copied.

    It holds a reference to the conversation's append-only list of turns and how many of them
    this call saw, so handing it to a script, and keeping it in the call log, costs the same at
    5,000 turns as at none. Items are `HistoryTurn`, made when read; a slice is a tuple.
    It compares equal to a tuple or list of the same turns. `words` is the turns' word count
    (kept by the conversation as it grows, counted here only when not given). Once its
    conversation is released (its context deleted), a view is empty: the turns are freed.
    """

    __slots__ = ("_length", "_turns", "_words")

    def __init__(
        self,
        turns: Sequence[TurnLike] | Sequence[PackedTurn],
        length: int | None = None,
        words: int | None = None,
    ) -> None:
        self._turns = turns
        self._length = len(turns) if length is None else length
        self._words = words

    @property
    def words(self) -> int:
        if self._words is None:
            self._words = sum(count_words(self._at(i).text) for i in range(len(self)))
        return self._words

    def __len__(self) -> int:
        return min(self._length, len(self._turns))

    @overload
    def __getitem__(self, index: int) -> HistoryTurn: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[HistoryTurn, ...]: ...

    def __getitem__(self, index: int | slice) -> HistoryTurn | tuple[HistoryTurn, ...]:
        if isinstance(index, slice):
            return tuple(self._at(i) for i in range(len(self))[index])
        return self._at(range(len(self))[index])  # IndexError and negative indexes as a tuple

    def __iter__(self) -> Iterator[HistoryTurn]:
        return (self._at(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"History({list(self)!r})" if len(self) <= 3 else f"<History: {len(self)} turns>"

    def _at(self, index: int) -> HistoryTurn:
        turn: TurnLike | PackedTurn = self._turns[index]
        if type(turn) is tuple:  # a packed turn: its role, then its text or its blocks
            role, content = turn[0], turn[1]
            if type(content) is str:  # one text block (which may be empty)
                return HistoryTurn(role, content, (TextBlock(content),))
            return HistoryTurn(role, "", content)
        if isinstance(turn, HistoryTurn):
            return turn
        stored = cast(TurnLike, turn)
        return HistoryTurn(stored.role, stored.text, stored.blocks)


#: A turn kept as a plain tuple: its role, then its text (a turn of one text block) or its
#: blocks, then whatever its owner keeps (ids, a time). A tuple of strings, numbers and times
#: is not tracked by the garbage collector once a pass has seen it: a long conversation costs
#: the collector's passes nothing.
PackedTurn = tuple[Any, ...]


class Transcript(Generic[T]):
    """A conversation as the engine needs it: append-only turns and their running word count.

    With `pack` and `unpack`, turns are kept packed (`PackedTurn`): `turns` and views make
    them again when read. Not locked itself: its owner (the store) serialises `extend`; views
    stay valid as it grows, since a view reads only the turns that were there when it was made.
    """

    __slots__ = ("_pack", "_turns", "_unpack", "_words")

    def __init__(
        self,
        turns: Iterable[T] = (),
        *,
        pack: Callable[[T], PackedTurn] | None = None,
        unpack: Callable[[PackedTurn], T] | None = None,
    ) -> None:
        if (pack is None) != (unpack is None):
            raise TypeError("Transcript: give both pack and unpack, or neither")
        self._turns: list[Any] = []
        self._words = 0
        self._pack, self._unpack = pack, unpack
        self.extend(turns)

    @property
    def turns(self) -> Sequence[T]:
        """The turns, oldest first (read them, do not change them)."""
        if self._unpack is None:
            return self._turns
        return _Unpacked(self._turns, self._unpack)

    def extend(self, turns: Iterable[T]) -> None:
        pack = self._pack
        for turn in turns:
            self._turns.append(turn if pack is None else pack(turn))
            self._words += count_words(turn.text)

    def view(self) -> History:
        """The history as it stands now, for one call."""
        return History(self._turns, len(self._turns), self._words)

    def release(self) -> None:
        """Free the turns (the context is gone): every view of them is empty from now on."""
        self._turns.clear()
        self._words = 0

    def __len__(self) -> int:
        return len(self._turns)


class _Unpacked(Sequence[T]):
    """Packed turns, made again as they are read."""

    __slots__ = ("_packed", "_unpack")

    def __init__(self, packed: list[PackedTurn], unpack: Callable[[PackedTurn], T]) -> None:
        self._packed, self._unpack = packed, unpack

    def __len__(self) -> int:
        return len(self._packed)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._unpack(packed) for packed in self._packed[index]]
        return self._unpack(self._packed[index])


@dataclass(frozen=True)
class AgentCall:
    """One execution of an agent.

    `message` is None for `continue`. `history` holds the turns before this
    execution (not the message of this call): a read-only sequence (the server gives a
    shared `History` view). `turn` is the 1-based number of this execution in the
    context. The server also names the deployment, the conversation and the execution.

    `run_state` is what the model is given in this run (system, guides, history, task,
    policy, metadata, tools, response format), from the call and the agent's `declaration`,
    which the engine gives the call before the script answers (so a script's callable and the
    call log see it; None only on a call that has not reached the engine). It is made when
    first read: nothing in it can change after the call (the context's fields are a copy, the
    history a view of the turns there were, the declaration a frozen value).
    """

    agent_name: str
    kind: CallKind
    message: str | None
    files: tuple[str, ...]
    context: ContextView
    history: Sequence[HistoryTurn]
    turn: int
    deployment_id: str | None = None
    conversation_id: str | None = None
    execution_id: str | None = None
    #: The agent's declaration, given by the engine: not part of a call's equality.
    declaration: Declaration | None = field(default=None, compare=False, repr=False)
    #: The run's task when it is not this call's own (a run resumed by an answer).
    task: Task | None = field(default=None, compare=False, repr=False)

    @cached_property
    def run_state(self) -> RunState | None:
        """What the model is given in this run (None before the engine gave the call its
        agent's declaration)."""
        declaration = self.declaration
        if declaration is None:
            return None
        instructions = self.context.system_instructions
        metadata = {
            **declaration.metadata,
            "agent_name": self.agent_name,
            "context_id": self.context.id,
            "deployment_id": self.deployment_id,
            "conversation_id": self.conversation_id,
            "execution_id": self.execution_id,
            "turn": self.turn,
        }
        return RunState(
            system=(TextBlock(instructions),) if instructions else (),
            guides=tuple(TextBlock(guide) for guide in declaration.guides),
            history=self.history,
            task=self.task or Task(self.kind, self.message, self.files),
            policy=declaration.policy,
            metadata=MappingProxyType(metadata),
            tools=tuple(declaration.tools),
            response_format=declaration.response_format,
        )
