"""The web side's commands of ``meldroute``, one module per subject.

Each module's ``PARSERS`` maps a command name to the function that adds that command's
arguments and sub-commands to its parser; ``webapp/cli.py`` imports a module only when
one of its commands runs (so that engine commands start without Flask or SQLAlchemy).
"""
