"""Storage for erasure evidence: files under MEDIA_ROOT/private that never get a public URL.

They are served only by `refurbish.views.erasure_evidence`, which checks who asks. Whoever
serves MEDIA_ROOT in production must leave `private/` out (the app itself serves no media).
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property


@deconstructible(path="refurbish.storage.PrivateMediaStorage")
class PrivateMediaStorage(FileSystemStorage):
    @cached_property
    def base_location(self):
        # Follows MEDIA_ROOT (also when a test overrides it): the parent clears this cache.
        return os.path.join(settings.MEDIA_ROOT, "private")

    @cached_property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no public URL; use the authorised view.")


private_storage = PrivateMediaStorage()
