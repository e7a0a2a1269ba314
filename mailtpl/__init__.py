"""mailtpl: compile, preview, test and send transactional email written in Handlebars.

Importing the package loads nothing else: each name below loads its module on
first use, so a precompiled template (which needs only :mod:`mailtpl.runtime_api`)
and every CLI call start without the compiler, premailer or lxml.
"""
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "Compiler": ".compiler", "Environment": ".environment", "RenderedEmail": ".rendered", "Template": ".runtime",
    "SafeString": ".values", "Scope": ".pybars_compat", "strlist": ".pybars_compat",
    "reset_password_link": ".links", "invitation_link": ".links", "FileSystemLoader": ".loader",
    # PybarsError is pybars3's own class: reading it loads pybars3, which mailtpl itself never needs
    "PybarsError": ".errors", "TemplateError": ".errors", "TemplateSyntaxError": ".errors",
    "UndefinedError": ".errors", "TemplateRuntimeError": ".errors", "TemplateNotFound": ".errors",
    "DataError": ".errors", "HelperError": ".errors",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later reads skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Compiler", "Template", "SafeString", "Environment", "RenderedEmail", "reset_password_link", "invitation_link", "Scope", "strlist", "PybarsError",
    "TemplateError", "TemplateSyntaxError", "UndefinedError", "TemplateRuntimeError",
    "TemplateNotFound", "DataError", "HelperError", "FileSystemLoader",
]
