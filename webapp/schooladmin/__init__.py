"""The school-admin section: contacts, roles, version history and the try-it panel.

For the school's ``schooladmin`` and for the ``bestuursadmin`` of its board. Every save
is checked by the school-configuration JSON Schema and the semantic checks of
``meldroute check``; an invalid change is refused with the message next to the field and
nothing is stored. Every save is a new version; older versions stay readable.

``views.py`` has the pages, ``forms.py`` the forms and where a problem's message goes,
``staffing.py`` the rule that a change must not leave a step without anyone to do it.
"""

from .views import bp, can_admin

__all__ = ["bp", "can_admin"]
