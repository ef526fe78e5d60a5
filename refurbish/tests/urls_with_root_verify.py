"""The project's URLs plus the public `/verify/<code>/` at the root, as config/urls.py is asked
to mount it."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from refurbish import views

urlpatterns = [
    path("verify/<str:code>/", views.certificate_verify, name="certificate_verify"),
    *project_urlpatterns,
]
