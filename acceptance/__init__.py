"""The acceptance run of issue 9 against a third-party Bot API emulator."""
