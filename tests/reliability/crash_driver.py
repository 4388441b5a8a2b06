"""A bot under load, for the crash tests: `python -m tests.reliability.crash_driver URL SEED`.

Trainees play air-01 concurrently through the real service and store, pressing a random open
button (sometimes typing, sometimes re-sending an old message). After every answered input it
prints `ANSWERED <user> <key>`, flushed: the parent kills it with SIGKILL at a random moment and
then checks that every answered input is in the store, exactly once.
"""

from __future__ import annotations

import asyncio
import random
import sys

from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, DebriefOut, Incoming, Outgoing
from bot.app.service import TrainingService
from bot.scenario.loader import load_catalogue
from storage import SqlStore
from tests.conftest import DIALOGUES

TRAINEES = 8
TEXTS = ["Tell me about your trip.", "What happened then?", "you lied, didn't you?"]


def buttons(replies: list[Outgoing]) -> list[str]:
    found = [r for r in replies if isinstance(r, ButtonsOut)]
    return [b.data for b in found[-1].buttons] if found else []


async def trainee(service: TrainingService, user: str, rng: random.Random, round_: int) -> None:
    replies = await service.handle(Incoming("crash", user, text="/resume"))
    if not buttons(replies):
        replies = await service.handle(Incoming("crash", user, text="/start air-01"))
    sent: list[str] = []
    for n in range(10_000):
        key = f"{user}:{round_}:{n}"
        options = buttons(replies)
        roll = rng.random()
        if sent and roll < 0.05:  # a messenger re-delivering an old message
            key = rng.choice(sent[-10:])  # messengers re-deliver recent messages
            incoming = Incoming("crash", user, text="Tell me about your trip.", key=key)
        elif roll < 0.2 or not options:
            incoming = Incoming("crash", user, text=rng.choice(TEXTS), key=key)
        else:
            incoming = Incoming("crash", user, button=rng.choice(options), key=key)
        resent = key in sent
        replies = await service.handle(incoming)
        if not resent:
            sent.append(key)
            # a fresh input to an active session is always a turn: it must now be stored
            print(f"ANSWERED {user} {key}", flush=True)
        if any(isinstance(r, DebriefOut) for r in replies):
            replies = await service.handle(Incoming("crash", user, text="/start air-01"))


async def main(url: str, seed: int) -> None:
    catalogue = load_catalogue([DIALOGUES])
    store = await SqlStore.open(url)
    service = TrainingService(ScenarioLibrary(catalogue, store), store)
    print("READY", flush=True)
    await asyncio.gather(
        *(trainee(service, f"t{i}", random.Random(seed * 100 + i), seed) for i in range(TRAINEES))
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
