"""Rendering transcripts and reports to files: the `DocumentRenderer` port of bot.app.

Markdown, self-contained HTML, versioned JSON, CSV and xAPI for transcripts; the per-session
debrief report in HTML or PDF (the `pdf` extra); the cohort report in HTML with matplotlib
charts (the `reports` extra). Nothing here reads storage or settings: a report holds only what
the use cases hand it, never a token or a database URL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot.app.cohort_report import CohortReport
from bot.app.documents import Document, ExportFormat, ReportFormat
from bot.app.transcripts import Transcript
from bot.reports import cohort, data, flat, html, markdown, pdf

#: the xAPI account home page trainees' aliases are given under
XAPI_HOME = "https://signpost.invalid/trainees"


def _stem(transcripts: Sequence[Transcript]) -> str:
    if len(transcripts) == 1:
        return f"transcript-{transcripts[0].session_id[:12]}"
    return f"transcripts-{len(transcripts)}"


class Renderer:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        xapi_home: str = XAPI_HOME,
    ) -> None:
        self.clock = clock
        self.xapi_home = xapi_home

    def transcripts(
        self, transcripts: Sequence[Transcript], fmt: ExportFormat, language: str
    ) -> Document:
        stem, now = _stem(transcripts), self.clock()
        match fmt:
            case "md":
                text = markdown.transcripts(transcripts, language)
                return Document(f"{stem}.md", "text/markdown", text.encode("utf-8"))
            case "html":
                page = html.transcripts(transcripts, language, now)
                return Document(f"{stem}.html", "text/html", page.encode("utf-8"))
            case "json":
                body = data.dumps(data.document(transcripts, now))
                return Document(f"{stem}.json", "application/json", body)
            case "csv":
                text = flat.csv_text(transcripts)
                return Document(f"{stem}.csv", "text/csv", text.encode("utf-8"))
            case "xapi":
                statements = flat.xapi_statements(transcripts, self.xapi_home)
                body = (json.dumps(statements, ensure_ascii=False, indent=2) + "\n").encode()
                return Document(f"{stem}.xapi.json", "application/json", body)
        raise ValueError(f"unknown format {fmt!r}")

    def session_report(self, transcript: Transcript, fmt: ReportFormat, language: str) -> Document:
        stem = f"debrief-{transcript.trainee}-{transcript.session_id[:12]}"
        if fmt == "pdf":
            body = pdf.session_report(transcript, language, self.clock())
            return Document(f"{stem}.pdf", "application/pdf", body)
        page = html.session_report(transcript, language, self.clock())
        return Document(f"{stem}.html", "text/html", page.encode("utf-8"))

    def cohort_report(self, report: CohortReport, language: str) -> Document:
        page = cohort.html(report, language, self.clock())
        name = "".join(c if c.isalnum() else "-" for c in report.cohort.name.lower()).strip("-")
        return Document(f"cohort-{name or 'report'}.html", "text/html", page.encode("utf-8"))
