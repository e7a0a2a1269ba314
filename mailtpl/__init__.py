"""mailtpl: compile, preview, test and send transactional email written in Handlebars."""
from pybars import PybarsError, Scope, strlist

from .compiler import Compiler
from .errors import (
    DataError,
    HelperError,
    TemplateError,
    TemplateNotFound,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
)
from .runtime import Template
from .values import SafeString

__version__ = "0.1.0"

__all__ = [
    "Compiler", "Template", "SafeString", "Scope", "strlist", "PybarsError",
    "TemplateError", "TemplateSyntaxError", "UndefinedError", "TemplateRuntimeError",
    "TemplateNotFound", "DataError", "HelperError",
]
