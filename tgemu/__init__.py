"""tgemu: a Telegram Bot API emulator with a control API, for tests and benchmarks.

It speaks the subset of the Bot API a typical bot uses, answers like Telegram
(including its limits and error texts), and lets tests play the users.  It imports
nothing from the bot it tests.  See ``docs/emulator-api.md``.
"""

from tgemu.server import Emulator

__all__ = ["Emulator"]
