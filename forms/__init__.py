"""Step forms generated from the protocol's field definitions (WTForms).

``build_form(step, school, evaluation)`` returns a form class with one field per visible
field definition: a question's answer field only once the route has reached that
question, a ``conditional`` field only once an outcome on the route asks for it. Each
field type is one class (``fields.py``, registry ``FIELD_TYPES``) that builds its WTForms
field and knows its values: emptiness, stored value, display. Classes are cached per
protocol version, step, school configuration and set of visible fields.
"""

from .build import StepForm, build_form, visible_fields
from .fields import FIELD_TYPES, BuildContext, DisplayContext, FieldType, field_type
from .values import from_form, recorded_values, to_form

__all__ = [
    "FIELD_TYPES", "BuildContext", "DisplayContext", "FieldType", "StepForm", "build_form",
    "field_type", "from_form", "recorded_values", "to_form", "visible_fields",
]
