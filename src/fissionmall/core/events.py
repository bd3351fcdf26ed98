"""Domain events as frozen dataclasses: written to the outbox and read back in one place.

`jobs.publish(s, event)` stores `to_payload(event)` under the class name; a handler declared with
`jobs.on(OrderPaid, "name")` gets `OrderPaid.parse(job.payload)` back, typed. Fields are plain JSON
values, tuples of them, or tuples of nested event dataclasses (e.g. `OrderPaid.lines`). A field added
later must have a default, so events already in the outbox still parse.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Any, Self


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def to_payload(self) -> dict[str, Any]:
        return {f.name: _dump(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> Self:
        hints = _hints(typing.cast(type, cls))
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name in payload:
                kwargs[f.name] = _load(hints[f.name], payload[f.name])
        return cls(**kwargs)


def _dump(v: Any) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _dump(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, tuple | list):
        return [_dump(x) for x in v]
    if isinstance(v, dict):
        return {k: _dump(x) for k, x in v.items()}
    return v


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _load(hint: Any, v: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        (inner, *_rest) = typing.get_args(hint)
        return tuple(_load(inner, x) for x in v or ())
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        h = _hints(hint)
        return hint(**{f.name: _load(h[f.name], v[f.name]) for f in dataclasses.fields(hint) if f.name in v})
    return v


E = typing.TypeVar("E", bound=DomainEvent)
EventHandler = typing.Callable[[Any, E], typing.Awaitable[None]]


async def publish(s: Any, event: DomainEvent) -> Any:
    """Record a typed event and queue its subscribers, inside the caller's transaction."""
    from fissionmall.core import jobs

    return await jobs.publish(s, event.type_name(), event.to_payload())


def on(
    event_cls: type[E],
    name: str,
    *,
    when: typing.Callable[[dict[str, Any]], bool] | None = None,
) -> typing.Callable[
    [typing.Callable[[Any, E], typing.Awaitable[None]]], typing.Callable[[Any, E], typing.Awaitable[None]]
]:
    """Subscribe `fn(s, event)` to a typed event (`name` stable across releases, as for `jobs.on`)."""
    from fissionmall.core import jobs

    def deco(
        fn: typing.Callable[[Any, E], typing.Awaitable[None]],
    ) -> typing.Callable[[Any, E], typing.Awaitable[None]]:
        async def handle(s: Any, job: Any) -> None:
            await fn(s, event_cls.parse(job.payload))

        handle.__qualname__ = getattr(fn, "__qualname__", name)
        jobs.on(event_cls.type_name(), name, when=when)(handle)
        return fn

    return deco
