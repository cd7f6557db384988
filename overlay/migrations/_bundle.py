"""Version changes as classes, and the ordered bundle of versions they belong to.

A change is a class whose docstring is its changelog line and whose ``instructions``
say what it does. It is checked when it is defined, and so is the bundle: versions
strictly ascending, the oldest without changes, no change in two versions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

from ._instructions import (
    EndpointAdded,
    EndpointMoved,
    Instruction,
    MigrationDefinitionError,
    PaginationChanged,
    SchemaInstruction,
    SigningChanged,
)


class VersionChange:
    """Base of every change; a subclass's docstring is its line in the API changelog."""

    instructions: ClassVar[tuple[Instruction, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        doc = (cls.__doc__ or "").strip()
        if not doc or doc == (VersionChange.__doc__ or "").strip():
            raise MigrationDefinitionError(f"{cls.__name__} needs a docstring: its changelog line.")
        if "\n\n" in doc:
            raise MigrationDefinitionError(f"{cls.__name__}'s docstring must be one paragraph.")
        if not isinstance(cls.instructions, tuple) or not cls.instructions:
            raise MigrationDefinitionError(f"{cls.__name__}.instructions must be a non-empty tuple.")
        for instruction in cls.instructions:
            if not isinstance(instruction, Instruction):
                raise MigrationDefinitionError(
                    f"{cls.__name__}.instructions holds {instruction!r}, which is not an instruction."
                )
            try:
                instruction.validate()
            except MigrationDefinitionError as exc:
                raise MigrationDefinitionError(f"{cls.__name__}: {exc}") from None

    @classmethod
    def changelog(cls) -> str:
        return " ".join((cls.__doc__ or "").split())

    @classmethod
    def schema_instructions(cls) -> Iterator[SchemaInstruction]:
        return (i for i in cls.instructions if isinstance(i, SchemaInstruction))


class Version:
    """A dated version and the changes that lead to it from the one before."""

    def __init__(self, date: str, *changes: type[VersionChange]) -> None:
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise MigrationDefinitionError(f"version {date!r} is not a YYYY-MM-DD date") from None
        for change in changes:
            if not (isinstance(change, type) and issubclass(change, VersionChange)):
                raise MigrationDefinitionError(f"version {date}: {change!r} is not a VersionChange class")
        self.date = date
        self.changes = changes

    def __repr__(self) -> str:
        return f"Version({self.date!r}, {', '.join(c.__name__ for c in self.changes)})"

    def instructions(self) -> Iterator[Instruction]:
        return (i for change in self.changes for i in change.instructions)


class VersionBundle:
    """The versions, oldest first; the oldest is the base and has no changes."""

    def __init__(self, *versions: Version) -> None:
        if not versions:
            raise MigrationDefinitionError("a bundle needs at least one version")
        dates = [v.date for v in versions]
        if dates != sorted(set(dates)):
            raise MigrationDefinitionError(f"versions must be strictly ascending, got {dates}")
        if versions[0].changes:
            raise MigrationDefinitionError(f"the oldest version ({dates[0]}) is the base: it has no changes")
        seen: dict[type[VersionChange], str] = {}
        for version in versions:
            for change in version.changes:
                if change in seen:
                    raise MigrationDefinitionError(
                        f"{change.__name__} is in both {seen[change]} and {version.date}"
                    )
                seen[change] = version.date
        self.versions = versions
        self.dates = tuple(dates)
        self.latest = dates[-1]

    @classmethod
    def of_dates(
        cls, dates: Sequence[str], changes: Mapping[str, Sequence[type[VersionChange]]]
    ) -> VersionBundle:
        """A bundle of every date (oldest first), each with its ``changes``; a change listed
        under a date that is not among ``dates`` is a definition error."""
        stray = sorted(set(changes) - set(dates))
        if stray:
            raise MigrationDefinitionError(f"changes are declared for {stray}, which no spec has")
        return cls(*(Version(date, *changes.get(date, ())) for date in dates))

    def __getitem__(self, date: str) -> Version:
        return self.versions[self.index(date)]

    def index(self, date: str) -> int:
        try:
            return self.dates.index(date)
        except ValueError:
            raise MigrationDefinitionError(
                f"unknown API version {date!r}; versions: {', '.join(self.dates)}"
            ) from None

    def steps(self, older: str, newer: str) -> list[Version]:
        """The versions whose changes lead from ``older`` up to ``newer``, in order."""
        low, high = self.index(older), self.index(newer)
        if low > high:
            raise MigrationDefinitionError(f"{older} is newer than {newer}")
        return list(self.versions[low + 1 : high + 1])

    def moved(self, version: str) -> dict[str, tuple[str, str]]:
        """Operation id → (method, path) at ``version``, for operations moved since."""
        out: dict[str, tuple[str, str]] = {}
        for step in reversed(self.steps(version, self.latest)):
            for i in step.instructions():
                if isinstance(i, EndpointMoved):
                    out[i.operation] = i.old
        return out

    def missing(self, version: str) -> dict[str, str]:
        """Operations added after ``version``, with the version that added each."""
        return {
            i.operation: step.date
            for step in self.steps(version, self.latest)
            for i in step.instructions()
            if isinstance(i, EndpointAdded)
        }

    def offset_paged(self, version: str) -> set[str]:
        """Operations that page by offset at ``version`` (and by cursor in the latest)."""
        return {
            op
            for step in self.steps(version, self.latest)
            for i in step.instructions()
            if isinstance(i, PaginationChanged)
            for op in i.operations
        }

    def signing(self, version: str) -> str:
        """The webhook signing scheme at ``version``."""
        scheme = "standard-webhooks"
        for step in reversed(self.steps(version, self.latest)):
            for i in step.instructions():
                if isinstance(i, SigningChanged):
                    scheme = i.old
        return scheme
