"""mailtpl: compile, preview, test and send transactional email written in Handlebars."""
from pybars import PybarsError, Scope, strlist

from .compiler import Compiler
from .environment import Environment
from .errors import (
    DataError,
    HelperError,
    TemplateError,
    TemplateNotFound,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
)
from .links import invitation_link, reset_password_link
from .loader import FileSystemLoader
from .rendered import RenderedEmail
from .runtime import Template
from .values import SafeString

__version__ = "0.1.0"

__all__ = [
    "Compiler", "Template", "SafeString", "Environment", "RenderedEmail", "reset_password_link", "invitation_link", "Scope", "strlist", "PybarsError",
    "TemplateError", "TemplateSyntaxError", "UndefinedError", "TemplateRuntimeError",
    "TemplateNotFound", "DataError", "HelperError", "FileSystemLoader",
]
