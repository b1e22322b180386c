"""In-process signals: the module that changes something announces it here, and each
module that keeps something derived from it subscribes in its own code
(``@receiver(metadata_changed)``), so no module clears another's private caches.

``metadata_changed(sender, site)``: the site's metadata changed: DocTypes, Custom
Fields, Property Setters, Custom DocPerms, Workflows, installed apps and their hooks.
``meta.clear_cache`` sends it for a change made here (at once, and again after the
commit); for a change made by another process, ``meta.check_version`` sends it at the
next request or job, when the metadata version in the database has moved. Receivers
drop what they derived for ``site``; they must not read the database (the transaction
may be ending)."""
from django.dispatch import Signal, receiver  # noqa: F401 - receiver: for subscribers

metadata_changed = Signal()
