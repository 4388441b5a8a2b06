"""The port for turning transcripts and reports into files: Markdown, HTML, JSON, CSV, xAPI,
PDF. `bot.reports` implements it; the use cases only ask for a `Document`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.app.cohort_report import CohortReport
from bot.app.transcripts import Transcript

ExportFormat = Literal["md", "html", "json", "csv", "xapi"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("md", "html", "json", "csv", "xapi")
ReportFormat = Literal["html", "pdf"]


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    media_type: str
    data: bytes


class RenderingUnavailableError(Exception):
    """A format needs an optional extra that is not installed (the message says which)."""


class DocumentRenderer(Protocol):
    def transcripts(
        self, transcripts: Sequence[Transcript], fmt: ExportFormat, language: str
    ) -> Document: ...

    def session_report(
        self, transcript: Transcript, fmt: ReportFormat, language: str
    ) -> Document: ...

    def cohort_report(self, report: CohortReport, language: str) -> Document:
        """One self-contained HTML page, its charts as images, its tables also as CSV."""
        ...
