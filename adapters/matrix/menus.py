"""The numbered options each trainee was last shown, so '2' or a 2️⃣ reaction picks option 2.

A menu is remembered when it is rendered (a number typed right after it refers to it) and
given its event id once sent (reactions point at that event). It is saved in the store, so a
trainee who answers by number after the bot restarted is understood. The language of the
trainee's last menu answer is kept with it: the adapter's own short replies use it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from bot.app.i18n import supported
from bot.app.messages import ButtonsOut
from bot.app.ports import AdapterStore

log = logging.getLogger(__name__)

#: menus kept in memory; beyond this the least recently used are read from the store again
CACHE = 20_000
#: earlier menus remembered per trainee, to tell a reaction to an old list from a stray one
HISTORY = 8


@dataclass
class Menu:
    buttons: tuple[tuple[str, str], ...] = ()
    event_id: str | None = None
    language: str = "en"
    earlier: deque[str] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def to_json(self) -> str:
        return json.dumps(
            {
                "buttons": [list(b) for b in self.buttons],
                "event_id": self.event_id,
                "language": self.language,
                "earlier": list(self.earlier),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Menu:
        data = json.loads(text)
        return cls(
            tuple((str(label), str(value)) for label, value in data.get("buttons", [])),
            data.get("event_id"),
            supported(data.get("language")),
            deque((str(e) for e in data.get("earlier", [])), maxlen=HISTORY),
        )


@dataclass(frozen=True, slots=True)
class Pick:
    """What a number or reaction resolved to: button data, or why not."""

    data: str | None = None
    #: 'stale' (an earlier list), 'range' (no such option), 'none' (not an answer to a list)
    problem: str | None = None
    options: int = 0


class Menus:
    def __init__(self, store: AdapterStore) -> None:
        self.store = store
        self._menus: OrderedDict[str, Menu] = OrderedDict()

    @staticmethod
    def _cursor(trainee: str) -> str:
        return "matrix:menu:" + hashlib.sha256(trainee.encode()).hexdigest()[:40]

    async def get(self, trainee: str) -> Menu:
        menu = self._menus.get(trainee)
        if menu is None:
            saved = await self.store.cursor(self._cursor(trainee))
            menu = Menu()
            if saved:
                try:
                    menu = Menu.from_json(saved)
                except (ValueError, TypeError, AttributeError):
                    log.warning("unreadable saved menu for a trainee: ignored")
            self._menus[trainee] = menu
            while len(self._menus) > CACHE:
                self._menus.popitem(last=False)
        self._menus.move_to_end(trainee)
        return menu

    async def shown(self, trainee: str, buttons: ButtonsOut) -> None:
        menu = await self.get(trainee)
        if menu.event_id:
            menu.earlier.append(menu.event_id)
        menu.buttons = tuple((b.label, b.data) for b in buttons.buttons)
        menu.event_id = None

    async def sent(self, trainee: str, buttons: ButtonsOut, event_id: str) -> None:
        menu = await self.get(trainee)
        if menu.buttons == tuple((b.label, b.data) for b in buttons.buttons):
            menu.event_id = event_id
        else:  # a newer menu was rendered meanwhile: this one is already old
            menu.earlier.append(event_id)
        await self.store.set_cursor(self._cursor(trainee), menu.to_json())

    async def cleared(self, trainee: str) -> None:
        menu = await self.get(trainee)
        if menu.event_id:
            menu.earlier.append(menu.event_id)
        menu.buttons, menu.event_id = (), None
        await self.store.set_cursor(self._cursor(trainee), menu.to_json())

    async def set_language(self, trainee: str, language: str) -> None:
        menu = await self.get(trainee)
        menu.language = supported(language)

    async def language(self, trainee: str) -> str:
        return (await self.get(trainee)).language

    async def number(self, trainee: str, number: int) -> Pick:
        menu = await self.get(trainee)
        if not menu.buttons:
            return Pick(problem="none")
        if not 1 <= number <= len(menu.buttons):
            return Pick(problem="range", options=len(menu.buttons))
        return Pick(menu.buttons[number - 1][1])

    async def reaction(self, trainee: str, target: str, index: int | None) -> Pick:
        menu = await self.get(trainee)
        if target in menu.earlier:
            return Pick(problem="stale")
        # A reaction may race the bot's own record of the menu's event id: while the latest
        # menu is still being sent, a reaction is taken to be to it.
        if not menu.buttons or (menu.event_id is not None and target != menu.event_id):
            return Pick(problem="none")
        if index is None:
            return Pick(problem="none")
        if index >= len(menu.buttons):
            return Pick(problem="range", options=len(menu.buttons))
        return Pick(menu.buttons[index][1])
