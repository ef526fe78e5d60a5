"""The web application (gunicorn, runserver).

After its first request a web process holds everything that lives as long as the process: code,
URL patterns, compiled templates, catalogues. Python's garbage collector would walk all of it on
every full collection (~70 ms here, on one request in ten on a long admin list); `gc.freeze()`
moves it out of the collector's way. Garbage made by requests is collected as before.
"""

import gc
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def freeze_long_lived_objects(**kwargs) -> None:
    """Once per process, after its first request: collect, then freeze what is left."""
    request_finished.disconnect(freeze_long_lived_objects)
    gc.collect()
    gc.freeze()


request_finished.connect(freeze_long_lived_objects)
