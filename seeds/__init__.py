"""The seed documents and default source list, installed with the bot as package data.

Data only: `bot.config` finds this folder through importlib.resources, so an installed
newsbot seeds itself from any working directory.
"""
