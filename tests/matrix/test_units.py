"""The adapter's pure parts and its loops with fakes: classification, rendering, menus, sending
with retries, and the sync loop's back-off. (The real proof is the tests against Synapse.)"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from adapters.matrix.events import (
    KEYCAPS,
    allowed,
    classify,
    is_new_own_join,
    keycap_index,
    number_of,
)
from adapters.matrix.media import MediaRepository
from adapters.matrix.menus import Menus
from adapters.matrix.options import MatrixOptions
from adapters.matrix.outbox import Batch, Failure, Limits, Outbox, Retry, transaction_id
from adapters.matrix.render import Post, Typing, render
from adapters.matrix.runner import MatrixBot
from bot.app.messages import ButtonOut, ButtonsOut, DocumentOut, MediaOut, TextOut

ROOM = "!room:localhost"


def event(content: Any, kind: str = "m.room.message", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "sender": "@t:localhost", "event_id": "$e", "content": content, **extra}


def test_what_is_read_and_what_is_ignored() -> None:
    text = classify(ROOM, event({"msgtype": "m.text", "body": "hello"}))
    assert text is not None and (text.kind, text.text) == ("text", "hello")
    emote = classify(ROOM, event({"msgtype": "m.emote", "body": "waves"}))
    assert emote is not None and emote.kind == "text"
    for ignored in (
        event({"msgtype": "m.notice", "body": "from a bot"}),
        event({"msgtype": "m.text", "body": 42}),
        event({"msgtype": "m.text"}),
        event("not a dict"),
        event({"msgtype": "m.text", "body": "x"}, state_key=""),
        event({"redacts": "$x"}, "m.room.redaction"),
        event({"anything": 1}, "org.example.custom"),
        event({"m.relates_to": {"rel_type": "m.reference", "event_id": "$x"}}, "m.reaction"),
        {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "no sender"}},
    ):
        assert classify(ROOM, ignored) is None, ignored
    edit = {"rel_type": "m.replace", "event_id": "$x"}
    assert (
        classify(ROOM, event({"msgtype": "m.text", "body": "*x", "m.relates_to": edit})).kind
        == "edit"
    )  # type: ignore[union-attr]
    for kind in ("m.image", "m.file", "m.audio", "m.video", "m.location"):
        assert classify(ROOM, event({"msgtype": kind, "body": "f"})).kind == "file"  # type: ignore[union-attr]
    assert classify(ROOM, event({"body": "s", "url": "mxc://x/y"}, "m.sticker")).kind == "file"  # type: ignore[union-attr]
    assert classify(ROOM, event({"ciphertext": "x"}, "m.room.encrypted")).kind == "encrypted"  # type: ignore[union-attr]
    huge = classify(ROOM, event({"msgtype": "m.text", "body": "x" * 4001}))
    assert huge is not None and (huge.kind, huge.length, huge.text) == ("too_long", 4001, "")


def test_a_reply_is_read_without_the_quoted_text() -> None:
    content = {
        "msgtype": "m.text",
        "body": "> <@signpost:localhost> What do you do?\n> 1. Ask\n\n2",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$menu"}},
    }
    act = classify(ROOM, event(content))
    assert act is not None and act.text == "2"


def test_numbers_and_number_emoji() -> None:
    assert [number_of(s) for s in ("2", " 2. ", "#3", "4)", "2 apples", "two", "")] == [
        2,
        2,
        3,
        4,
        None,
        None,
        None,
    ]
    assert keycap_index("1️⃣") == 0 and keycap_index("1\u20e3") == 0  # with or without VS16
    assert keycap_index("🔟") == 9 and keycap_index("👍") is None
    assert len(KEYCAPS) == 10


def test_the_allow_list() -> None:
    assert allowed([], "@anyone:anywhere.org")
    assert allowed(["example.org"], "@a:Example.org")
    assert allowed(["@a:example.org"], "@a:example.org")
    assert not allowed(["@a:example.org"], "@b:example.org")
    assert not allowed(["example.org"], "@a:evil.example.org.com")


def test_only_the_bots_own_new_join_counts() -> None:
    me = "@bot:localhost"
    join = {"type": "m.room.member", "state_key": me, "content": {"membership": "join"}}
    assert is_new_own_join(join, me)
    renamed = {**join, "unsigned": {"prev_content": {"membership": "join"}}}
    assert not is_new_own_join(renamed, me)
    assert not is_new_own_join({**join, "state_key": "@other:localhost"}, me)


def test_everything_echoed_in_html_is_escaped() -> None:
    replies = [
        TextOut("info", "Unknown command !<img src=x>."),
        TextOut("warning", "a & b"),
        TextOut("line", "I <b>am</b> fine", "<script>Eve</script>", "persona"),
        ButtonsOut("Pick <one>", (ButtonOut("<i>yes</i>", "c:1:0"), ButtonOut("no", "c:1:1"))),
    ]
    posts = render(replies, typing=Typing(0), language="en", hint_menus=True)
    assert [p.content["msgtype"] for p in posts] == ["m.notice", "m.text", "m.text"]
    notice, line, menu = (p.content for p in posts)
    assert notice["body"] == "Unknown command !<img src=x>.\n\n⚠️ a & b"
    assert "<img" not in notice["formatted_body"] and "a &amp; b" in notice["formatted_body"]
    assert line["body"] == "<script>Eve</script>: I <b>am</b> fine"
    assert line["formatted_body"] == (
        "<b>&lt;script&gt;Eve&lt;/script&gt;</b>: I &lt;b&gt;am&lt;/b&gt; fine"
    )
    assert menu["body"].split("\n")[:3] == ["Pick <one>", "1. <i>yes</i>", "2. no"]
    assert "<li>&lt;i&gt;yes&lt;/i&gt;</li>" in menu["formatted_body"]
    assert "1️⃣ to 2️⃣" in menu["body"]
    assert posts[2].menu is replies[3]


def test_longer_lines_are_typed_first() -> None:
    typing = Typing(seconds_per_char=0.01, max_seconds=1.0, min_chars=50)
    posts = render(
        [
            TextOut("line", "short", "Ana"),
            TextOut("line", "x" * 80, "Ana"),
            TextOut("line", "y" * 500, "Ana"),
        ],
        typing=typing,
        language="en",
        hint_menus=False,
    )
    assert [p.typing for p in posts] == [0.0, 0.8, 1.0]


class FakeTransport:
    def __init__(self, answers: list[str | Failure]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    async def send(
        self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str
    ) -> str | Failure:
        self.calls.append((txn_id, content["body"]))
        return self.answers.pop(0) if self.answers else f"$sent{len(self.calls)}"

    async def typing(self, room_id: str, seconds: float) -> None:
        pass


class FakeStore:
    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}
        self.calls: list[str] = []
        self.recorded: set[str] = set()
        self.cursor_saved = asyncio.Event()

    async def cursor(self, name: str) -> str | None:
        return self.cursors.get(name)

    async def set_cursor(self, name: str, value: str) -> None:
        self.calls.append(f"cursor {value}")
        self.cursors[name] = value
        self.cursor_saved.set()

    async def media_ref(self, platform: str, digest: str) -> str | None:
        return None

    async def save_media_ref(self, platform: str, digest: str, ref: str) -> None:
        pass

    async def record_update(self, platform: str, key: str, payload: dict[str, Any]) -> bool:
        new = key not in self.recorded
        self.recorded.add(key)
        return new

    async def mark_processed(self, platform: str, key: str) -> None:
        self.calls.append(f"processed {key}")

    async def prune_updates(self, platform: str, before: Any) -> int:
        return 0


def outbox(transport: FakeTransport, limits: Limits | None = None) -> Outbox:
    async def no_upload(data: bytes, kind: str, name: str) -> str | None:
        return None

    media = MediaRepository(FakeStore(), "matrix:test", no_upload)  # type: ignore[arg-type]
    return Outbox(transport, media, Retry(limits or Limits(attempts=3, backoff_first=0.01)))


def post(text: str) -> Post:
    return Post({"msgtype": "m.text", "body": text})


async def test_a_rate_limited_send_waits_and_retries_with_the_same_transaction_id() -> None:
    limited = Failure("M_LIMIT_EXCEEDED", retry_after=0.05)
    transport = FakeTransport([limited, limited])
    box = outbox(transport)
    done = asyncio.Event()

    async def finished() -> None:
        done.set()

    started = time.monotonic()
    box.submit(Batch(ROOM, "$in", [post("one"), post("two")], done=finished))
    await asyncio.wait_for(done.wait(), 5)
    assert time.monotonic() - started >= 0.1
    first = transaction_id("$in", 0)
    assert transport.calls == [
        (first, "one"),
        (first, "one"),
        (first, "one"),
        (transaction_id("$in", 1), "two"),
    ]
    assert box.retry.rate_limited == 2
    await box.close(1)


async def test_server_errors_are_retried_a_few_times_then_the_post_is_dropped() -> None:
    transport = FakeTransport([Failure("M_UNKNOWN")] * 3)
    box = outbox(transport)
    done = asyncio.Event()

    async def finished() -> None:
        done.set()

    box.submit(Batch(ROOM, "$in", [post("lost"), post("next")], done=finished))
    await asyncio.wait_for(done.wait(), 5)
    assert [body for _, body in transport.calls] == ["lost", "lost", "lost", "next"]
    await box.close(1)


async def test_a_lost_login_stops_sending_and_leaves_the_answer_pending() -> None:
    transport = FakeTransport([Failure("M_UNKNOWN_TOKEN", fatal=True)])
    box = outbox(transport)
    finished: list[bool] = []

    async def done() -> None:
        finished.append(True)

    box.submit(Batch(ROOM, "$in", [post("a"), post("b")], done=done))
    await asyncio.wait_for(box.retry.fatal.wait(), 5)
    await box.close(1)
    assert finished == [] and len(transport.calls) == 1


async def test_a_stop_out_of_time_leaves_unsent_answers_pending() -> None:
    transport = FakeTransport([Failure("M_LIMIT_EXCEEDED", retry_after=30)])
    box = outbox(transport)
    finished: list[bool] = []

    async def done() -> None:
        finished.append(True)

    box.submit(Batch(ROOM, "$in", [post("a")], done=done))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await box.close(0.2)
    assert time.monotonic() - started < 2 and finished == []


async def test_a_missing_clip_is_said_in_words(tmp_path: Path) -> None:
    transport = FakeTransport([])
    box = outbox(transport)
    clip = MediaOut("photo", tmp_path / "gone.png", "A note", "A note in pencil.", "Officer")
    done = asyncio.Event()

    async def finished() -> None:
        done.set()

    box.submit(Batch(ROOM, "$in", [Post({}, clip=clip)], done=finished))
    await asyncio.wait_for(done.wait(), 5)
    assert transport.calls[0][1] == "Officer: [A note] A note in pencil."
    await box.close(1)


async def test_menus_survive_in_the_store() -> None:
    store = FakeStore()
    menus = Menus(store)  # type: ignore[arg-type]
    shown = ButtonsOut("Pick", (ButtonOut("a", "c:1:0"), ButtonOut("b", "c:1:1")))
    await menus.shown("t", shown)
    assert (await menus.number("t", 2)).data == "c:1:1"
    assert (await menus.number("t", 3)).problem == "range"
    assert (await menus.reaction("t", "$pending", 0)).data == "c:1:0"  # sent, not yet recorded
    await menus.sent("t", shown, "$menu1")
    later = Menus(store)  # type: ignore[arg-type]
    assert (await later.reaction("t", "$menu1", 1)).data == "c:1:1"
    assert (await later.reaction("t", "$other", 1)).problem == "none"
    await later.shown("t", ButtonsOut("Next", (ButtonOut("c", "c:2:0"),)))
    assert (await later.reaction("t", "$menu1", 0)).problem == "stale"


class FakeClient:
    user_id = "@bot:localhost"

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.times: list[float] = []

    async def sync(self, since: str | None, timeout_ms: int, sync_filter: dict[str, Any]) -> Any:
        self.times.append(time.monotonic())
        if self.answers:
            return self.answers.pop(0)
        await asyncio.sleep(10)

    def room_encrypted(self, room_id: str) -> bool:
        return False


def sync_answer(batch: str, *events: dict[str, Any]) -> Any:
    timeline = SimpleNamespace(
        events=[SimpleNamespace(source=e) for e in events], limited=False, prev_batch=None
    )
    room = SimpleNamespace(timeline=timeline, state=[])
    return SimpleNamespace(next_batch=batch, rooms=SimpleNamespace(invite={}, join={ROOM: room}))


class FakeConversations:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def act(self, act: Any) -> None:
        if act.text == "boom":
            raise RuntimeError("a bug")
        await asyncio.sleep(0.01)
        self.store.calls.append(f"handled {act.event_id}")


async def test_the_sync_loop_backs_off_within_limits_and_saves_the_token_after_handling() -> None:
    store = FakeStore()
    store.cursors["matrix:@bot:localhost:next_batch"] = "s0"
    failing = [Failure("M_UNKNOWN")] * 4
    msg = {"type": "m.room.message", "sender": "@t:localhost", "content": {"msgtype": "m.text"}}
    answer = sync_answer(
        "s1",
        {**msg, "event_id": "$boom", "content": {"msgtype": "m.text", "body": "boom"}},
        {**msg, "event_id": "$ok", "content": {"msgtype": "m.text", "body": "fine"}},
    )
    client = FakeClient([*failing, answer])
    options = MatrixOptions(sync_backoff_first=0.02, sync_backoff_max=0.05)
    bot = MatrixBot(client, FakeConversations(store), store, [], options)  # type: ignore[arg-type]
    stop, fatal = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(bot.run(stop, fatal))
    await asyncio.wait_for(store.cursor_saved.wait(), 2)
    stop.set()
    await asyncio.wait_for(task, 2)
    gaps = [b - a for a, b in zip(client.times, client.times[1:], strict=False)]
    assert all(g >= w * 0.9 for g, w in zip(gaps, (0.02, 0.04, 0.05, 0.05), strict=False))
    assert max(gaps[:4]) < 0.2  # capped
    # the failing event was logged and the next one handled, and only then the token saved
    assert store.calls == ["processed $boom", "handled $ok", "cursor s1"]


async def test_the_sync_loop_stops_when_the_login_is_gone(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore()
    client = FakeClient([Failure("M_UNKNOWN_TOKEN", fatal=True)])
    bot = MatrixBot(client, FakeConversations(store), store, [], MatrixOptions())  # type: ignore[arg-type]
    fatal = asyncio.Event()
    await asyncio.wait_for(bot.run(asyncio.Event(), fatal), 2)
    assert fatal.is_set()
    assert "no longer accepts the bot's login" in caplog.text


async def test_a_report_is_uploaded_and_sent_as_a_file() -> None:
    transport = FakeTransport([])
    uploads: list[tuple[bytes, str, str]] = []

    async def upload(data: bytes, kind: str, name: str) -> str | None:
        uploads.append((data, kind, name))
        return "mxc://localhost/report"

    box = Outbox(transport, MediaRepository(FakeStore(), "matrix:test", upload))  # type: ignore[arg-type]
    report = DocumentOut("report.html", "text/html", b"<html></html>", "Cohort report")
    done = asyncio.Event()

    async def finished() -> None:
        done.set()

    posts = render([report], typing=Typing(0, 0, 0), language="en", hint_menus=False)
    box.submit(Batch(ROOM, "$doc", posts, done=finished))
    await asyncio.wait_for(done.wait(), 5)
    assert uploads == [(b"<html></html>", "text/html", "report.html")]
    assert transport.calls[0][1] == "Cohort report"
    await box.close(1)
