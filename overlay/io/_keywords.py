"""Keyword arguments checked by name: a misspelt one is a ``TypeError`` that suggests the
nearest one the function takes (Python 3.11 says only that it is unexpected)."""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")


def checked_keywords(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` with its keyword arguments checked before it runs (async stays async)."""
    parameters = inspect.signature(function).parameters
    names = [n for n, p in parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    name = function.__qualname__

    def check(keywords: dict[str, Any]) -> None:
        for given in keywords:
            if given not in parameters:
                close = difflib.get_close_matches(given, names, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(names[1:])}"
                raise TypeError(f"{name}() got an unexpected keyword argument {given!r}{hint}")

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def checked_async(*args: Any, **kwargs: Any) -> Any:
            check(kwargs)
            return await function(*args, **kwargs)

        return cast(Callable[P, R], checked_async)

    @functools.wraps(function)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        check(kwargs)
        return function(*args, **kwargs)

    return checked
