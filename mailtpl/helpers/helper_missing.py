"""Called for ``{{name arg}}`` when no helper ``name`` exists (pybars3 signature ``(this, name, *args)``)."""
from ..errors import HelperError


def helper_missing(this, name, *args, **hash):
    if not args:
        return None  # {{name key=value}} with no helper renders nothing, as in handlebars.js
    raise HelperError(f'missing helper "{name}": register it with helpers={{"{name}": ...}}')
