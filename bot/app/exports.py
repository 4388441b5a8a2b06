"""Transcripts and reports for the people allowed to read them, each access audited.

A selection (sessions, a trainee, a cohort, a date range) is narrowed to what the actor may
see; every transcript read is one audit entry naming the session, the actor and the format.
Trainees appear by alias; their platform identities only when explicitly asked for, and only
to an admin.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from bot.app.access import AccessDeniedError, Action, Actor
from bot.app.cohort_report import CohortReport, build_report
from bot.app.directory import Directory, UserError
from bot.app.documents import (
    Document,
    DocumentRenderer,
    ExportFormat,
    RenderingUnavailableError,
    ReportFormat,
)
from bot.app.library import ScenarioLibrary, UnknownScenarioError
from bot.app.ports import Cohort, SessionRecord, Store
from bot.app.sessions import Clock, utc_now
from bot.app.transcripts import Transcript, TranscriptBuilder, redacted, vocabulary

#: the shortest session id prefix accepted (ids are 32 hex digits)
MIN_PREFIX = 6
#: how each way of reading a transcript is named in the audit log
AUDIT_NAMES: dict[str, str] = {
    "transcripts.export": "transcript.export",
    "report.session": "transcript.report",
    "chat.transcript": "transcript.chat",
    "chat.debrief_of": "transcript.chat_debrief",
}


@dataclass(frozen=True, slots=True)
class Selection:
    sessions: tuple[str, ...] = ()
    trainee: str | None = None
    cohort: str | None = None
    #: created at or after / before (UTC)
    since: datetime | None = None
    until: datetime | None = None


class Exports(Directory):
    def __init__(
        self,
        library: ScenarioLibrary,
        store: Store,
        *,
        clock: Clock = utc_now,
        renderer: DocumentRenderer | None = None,
    ) -> None:
        super().__init__(library, store, clock=clock)
        self.builder = TranscriptBuilder(library)
        self.renderer = renderer
        self._aliases: dict[str, str] = {}

    # -- choosing sessions ------------------------------------------------------------------

    async def find_session(self, actor: Actor, ref: str, action: Action) -> SessionRecord:
        """A session by id or unique prefix, if `actor` may read it (the same answer whether
        it does not exist or is not theirs)."""
        ref = ref.strip().lower()
        found = await self.store.get_session(ref) if len(ref) == 32 else None
        if found is None and len(ref) >= MIN_PREFIX:
            matches = await self.store.sessions_by_prefix(ref, limit=2)
            if len(matches) > 1:
                raise UserError(f"{ref!r} names several sessions: give more of the id")
            found = matches[0] if matches else None
        if found is not None and not await self.access.may_see_trainee(actor, found.trainee_id):
            await self.audit(actor, action, found.id, "denied")
            found = None
        if found is None:
            raise UserError(f"no session {ref!r} that you can see")
        return found

    async def select(
        self, actor: Actor, selection: Selection, action: Action = "transcripts.export"
    ) -> list[SessionRecord]:
        await self.check(actor, action)
        records: list[SessionRecord]
        if selection.sessions:
            records = [await self.find_session(actor, ref, action) for ref in selection.sessions]
        elif selection.trainee is not None:
            person = await self.find_person(selection.trainee)
            if not await self.access.may_see_trainee(actor, person.id):
                await self.audit(actor, action, person.alias, "denied")
                raise UserError(f"no user {selection.trainee!r} whose sessions you can see")
            records = list(await self.store.sessions_of(person.id))
        elif selection.cohort is not None:
            cohort = await self.readable_cohort(actor, selection.cohort, action)
            records = await self.cohort_sessions(cohort)
        else:
            every = await self.store.sessions_between(selection.since, selection.until)
            records = await self.access.visible(actor, every)
        since, until = selection.since, selection.until
        return sorted(
            (
                r
                for r in records
                if (since is None or r.created_at >= since)
                and (until is None or r.created_at < until)
            ),
            key=lambda r: (r.created_at, r.id),
        )

    async def readable_cohort(self, actor: Actor, key: str, action: Action) -> Cohort:
        """A cohort whose trainees' transcripts `actor` may read (coordinator or admin)."""
        found = await self.store.cohort(key)
        if found is None or found.id not in {c.id for c in await self.access.coordinated(actor)}:
            if found is not None:
                await self.audit(actor, action, found.name, "denied")
            raise UserError(f"no cohort {key!r} that you coordinate")
        return found

    async def cohort_sessions(self, cohort: Cohort) -> list[SessionRecord]:
        """Sessions of the cohort's trainees within its dates, on its scenarios."""
        records = []
        for member in await self.store.members(cohort.id):
            if member.role != "trainee":
                continue
            for record in await self.store.sessions_of(member.person.id):
                day = record.created_at.date()
                if cohort.starts_on and day < cohort.starts_on:
                    continue
                if cohort.ends_on and day > cohort.ends_on:
                    continue
                if cohort.scenarios and record.scenario_id not in cohort.scenarios:
                    continue
                records.append(record)
        return records

    # -- transcripts ------------------------------------------------------------------------

    async def transcripts(
        self,
        actor: Actor,
        selection: Selection,
        *,
        fmt: str = "json",
        identities: bool = False,
        redact: bool = False,
        action: Action = "transcripts.export",
    ) -> list[Transcript]:
        if identities and actor.role != "admin":
            await self.audit(actor, action, "platform ids", "denied")
            raise AccessDeniedError(actor, action, "with platform ids")
        records = await self.select(actor, selection, action)
        built = [await self._build(r, identities=identities, redact=redact) for r in records]
        await asyncio.gather(
            *(
                self.audit(
                    actor,
                    AUDIT_NAMES.get(action, action),
                    t.session_id,
                    trainee=t.trainee,
                    format=fmt,
                    redacted=redact,
                    identities=identities,
                )
                for t in built
            )
        )
        return built

    async def _build(self, record: SessionRecord, *, identities: bool, redact: bool) -> Transcript:
        ids = await self.store.identities(record.trainee_id) if identities else ()
        transcript = await self.builder.build(
            record,
            await self.store.turns(record.id),
            trainee=await self.alias(record.trainee_id),
            identities=ids,
        )
        if redact:
            transcript = redacted(transcript, await self._known_words(record))
        return transcript

    async def _known_words(self, record: SessionRecord) -> frozenset[str]:
        try:
            version = await self.library.version(record.scenario_hash, record.scenario_id)
        except UnknownScenarioError:
            return frozenset()
        return vocabulary(version.loaded.source)

    async def alias(self, trainee_id: str) -> str:
        if trainee_id not in self._aliases:
            person = await self.store.person(trainee_id=trainee_id)
            self._aliases[trainee_id] = person.alias if person else "unknown"
        return self._aliases[trainee_id]

    # -- documents --------------------------------------------------------------------------

    def _renderer(self) -> DocumentRenderer:
        if self.renderer is None:
            raise RenderingUnavailableError("no document renderer is configured")
        return self.renderer

    async def export(
        self,
        actor: Actor,
        selection: Selection,
        fmt: ExportFormat,
        language: str,
        *,
        identities: bool = False,
        redact: bool = False,
    ) -> tuple[Document, int]:
        """The selected transcripts as one file, and how many sessions it holds."""
        renderer = self._renderer()
        found = await self.transcripts(
            actor, selection, fmt=fmt, identities=identities, redact=redact
        )
        document = await asyncio.to_thread(renderer.transcripts, found, fmt, language)
        return document, len(found)

    async def session_report(
        self,
        actor: Actor,
        ref: str,
        fmt: ReportFormat,
        language: str,
        *,
        action: Action = "report.session",
        redact: bool = False,
    ) -> Document:
        renderer = self._renderer()
        (transcript,) = await self.transcripts(
            actor, Selection(sessions=(ref,)), fmt=fmt, redact=redact, action=action
        )
        return await asyncio.to_thread(renderer.session_report, transcript, fmt, language)

    async def latest_report(
        self, actor: Actor, trainee_ref: str, language: str, *, action: Action
    ) -> Document:
        """The debrief report of a trainee's latest finished session."""
        await self.check(actor, action, trainee_ref)
        person = await self.find_person(trainee_ref)
        if not await self.access.may_see_trainee(actor, person.id):
            await self.audit(actor, action, person.alias, "denied")
            raise UserError(f"no user {trainee_ref!r} whose sessions you can see")
        done = [
            s
            for s in await self.store.sessions_of(person.id)
            if s.state.finished and s.state.turn > 0
        ]
        if not done:
            raise UserError(f"{person.alias} has no finished session yet")
        latest = max(done, key=lambda s: (s.updated_at, s.id))
        return await self.session_report(actor, latest.id, "html", language, action=action)

    async def cohort_report_data(
        self, actor: Actor, key: str, action: Action = "report.cohort"
    ) -> CohortReport:
        cohort = await self.cohort(actor, key, action)
        members = await self.store.members(cohort.id)
        records = await self.cohort_sessions(cohort)
        built = [await self._build(r, identities=False, redact=False) for r in records]
        await self.audit(actor, "report.cohort", cohort.name, sessions=len(built))
        lead = await self.alias(cohort.coordinator_id) if cohort.coordinator_id else None
        return build_report(
            cohort,
            lead,
            [m.person.alias for m in members if m.role == "trainee"],
            [m.person.alias for m in members if m.role == "trainer"],
            built,
            self.clock(),
        )

    async def cohort_report(
        self, actor: Actor, key: str, language: str, action: Action = "report.cohort"
    ) -> Document:
        renderer = self._renderer()
        report = await self.cohort_report_data(actor, key, action)
        return await asyncio.to_thread(renderer.cohort_report, report, language)
