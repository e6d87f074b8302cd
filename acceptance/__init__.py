"""The acceptance run: `newsbot run` against a third-party Bot API emulator."""
