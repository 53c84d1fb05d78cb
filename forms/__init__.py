"""Step forms generated from the protocol's field definitions (WTForms).

``build_form(step, school, evaluation)`` returns a form class with one field per visible
field definition: a question's answer field only once the route has reached that
question, a ``conditional`` field only once an outcome on the route asks for it. Each
field type builds its own WTForms field (``fields.py``). Classes are cached per protocol
version, step, school configuration and set of visible fields.
"""

from .build import StepForm, build_form, visible_fields
from .values import from_form, to_form

__all__ = ["StepForm", "build_form", "from_form", "to_form", "visible_fields"]
