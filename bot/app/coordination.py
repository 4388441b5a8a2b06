"""Coordinators' use cases: the messenger's `/cohorts`, `/report`, `/transcript`,
`/debrief TRAINEE` and enrolment, plus forgetting people and applying the retention period.

`TrainingService.handle` stays the single entry point of every adapter: it hands these
commands here. A chat's role is always read from storage, and a refusal never tells whether
the cohort, session or trainee asked for exists.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.app.access import AccessDeniedError, Action, Actor
from bot.app.directory import UserError
from bot.app.documents import Document, RenderingUnavailableError
from bot.app.exports import Exports, Selection
from bot.app.i18n import t
from bot.app.messages import DocumentOut, Outgoing, TextOut
from bot.app.ports import Cohort, Person, SessionRecord, Trainee

RetentionAction = Literal["delete", "anonymise"]
#: the messenger commands handled here, and the action each needs
CHAT_ACTIONS: dict[str, Action] = {
    "cohorts": "chat.cohorts",
    "report": "chat.report",
    "transcript": "chat.transcript",
    "debrief": "chat.debrief_of",
}


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    cutoff: datetime
    action: RetentionAction
    sessions: tuple[SessionRecord, ...]
    executed: bool

    @property
    def turns(self) -> int:
        return sum(s.last_seq + 1 for s in self.sessions)


class Coordination(Exports):
    # -- privacy ----------------------------------------------------------------------------

    async def forget(self, actor: Actor, ref: str) -> tuple[Person, int]:
        """Delete a person's data everywhere; the audit entry saying so is kept."""
        await self.check(actor, "user.forget", ref)
        person = await self.find_person(ref)
        sessions = len(await self.store.sessions_of(person.id))
        entry = self.entry(actor, "user.forget", person.alias, sessions=sessions)
        await self.store.forget_trainee(person.id, entry)
        return person, sessions

    async def forget_self(self, trainee: Trainee) -> None:
        """`/forget`: the person deletes their own data; the audit entry is kept."""
        sessions = len(await self.store.sessions_of(trainee.id))
        entry = self.entry(
            Actor(trainee.alias, "trainee", trainee.id),
            "user.forget",
            trainee.alias,
            sessions=sessions,
            by="self",
        )
        await self.store.forget_trainee(trainee.id, entry)

    async def retention(
        self, actor: Actor, *, days: int, action: RetentionAction, execute: bool
    ) -> RetentionPlan:
        """Sessions untouched for `days` days: deleted, or anonymised (detached from the
        person, typed words wiped, scores kept). Only reports unless `execute`."""
        await self.check(actor, "retention.apply")
        if days < 1:
            raise UserError("the retention period must be at least one day")
        if action not in ("delete", "anonymise"):
            raise UserError("the retention action is delete or anonymise")
        cutoff = self.clock() - timedelta(days=days)
        stale = tuple(await self.store.stale_sessions(cutoff))
        if execute:
            entry = self.entry(
                actor,
                f"retention.{action}",
                f"before {cutoff.date().isoformat()}",
                sessions=len(stale),
                days=days,
            )
            ids = [s.id for s in stale]
            if action == "delete":
                await self.store.delete_sessions(ids, entry)
            else:
                await self.store.anonymise_sessions(ids, entry)
        return RetentionPlan(cutoff, action, stale, execute)

    # -- the messenger ----------------------------------------------------------------------

    async def chat(self, trainee: Trainee, name: str, argument: str, lang: str) -> list[Outgoing]:
        """`/cohorts`, `/report COHORT`, `/transcript SESSION`, `/debrief TRAINEE`."""
        actor = await self.access.actor(trainee.id, trainee.alias)
        action = CHAT_ACTIONS[name]
        try:
            await self.check(actor, action, argument)
        except AccessDeniedError:
            return [TextOut("warning", t(lang, "staff_only", command="/" + name))]
        if name == "cohorts":
            return [TextOut("info", await self._cohort_lines(actor, lang))]
        if not argument:
            return [TextOut("info", t(lang, f"usage_{name}"))]
        try:
            document, caption = await self._chat_document(actor, name, argument, lang)
        except (UserError, AccessDeniedError):
            return [TextOut("warning", t(lang, "staff_not_found", what=argument[:60]))]
        except RenderingUnavailableError as why:
            return [TextOut("warning", t(lang, "report_unavailable", why=str(why)))]
        return [DocumentOut(document.filename, document.media_type, document.data, caption)]

    async def _chat_document(
        self, actor: Actor, name: str, argument: str, lang: str
    ) -> tuple[Document, str]:
        action = CHAT_ACTIONS[name]
        if name == "report":
            cohort = await self.cohort(actor, argument, action)
            document = await self.cohort_report(actor, cohort.id, lang, action)
            return document, t(lang, "caption_report", name=cohort.name)
        if name == "transcript":
            record = await self.find_session(actor, argument, action)
            renderer = self._renderer()
            found = await self.transcripts(
                actor, Selection(sessions=(record.id,)), fmt="html", action=action
            )
            document = await asyncio.to_thread(renderer.transcripts, found, "html", lang)
            return document, t(lang, "caption_transcript", session=record.id[:12])
        document = await self.latest_report(actor, argument, lang, action=action)
        return document, t(lang, "caption_debrief", trainee=argument[:60])

    async def _cohort_lines(self, actor: Actor, lang: str) -> str:
        cohorts: list[Cohort] = await self.access.cohorts(actor)
        if not cohorts:
            return t(lang, "no_cohorts")
        lines = [t(lang, "your_cohorts")]
        for cohort in cohorts:
            members = await self.store.members(cohort.id)
            trainees = sum(1 for m in members if m.role == "trainee")
            lines.append(
                "  " + t(lang, "cohort_line", name=cohort.name, code=cohort.code, count=trainees)
            )
        return "\n".join(lines)
