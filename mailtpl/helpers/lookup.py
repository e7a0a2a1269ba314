"""``{{lookup object key}}``: a dynamic property lookup (``lookup items @index``)."""
from ..values import MISSING, lookup as lookup_property, truthy


def lookup(this, obj=None, field=None, *rest, **hash):
    if not truthy(obj):
        return obj
    value = lookup_property(obj, field)
    return None if value is MISSING else value
