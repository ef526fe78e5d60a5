"""Mounted at the site root, in front of the donations and help-request URLs: the donor's and
the requester's overview pages keep their paths under /donaties/ and /hulpaanvragen/."""

from django.urls import path

from . import views

app_name = "coordination"

urlpatterns = [
    path("coordinatie/", views.dashboard, name="dashboard"),
    path("coordinatie/herberekenen/", views.refresh, name="refresh"),
    path(
        "coordinatie/export/<str:app_label>/<str:model_name>.<str:fmt>",
        views.export,
        name="export",
    ),
    path("coordinatie/impact/<int:pk>/", views.donor_impact, name="donor_impact"),
    path("donaties/", views.donor_overview, name="donor_overview"),
    path("donaties/impact/", views.impact, name="impact"),
    path("donaties/impact.pdf", views.impact_pdf, name="impact_pdf"),
    path("hulpaanvragen/", views.requester_overview, name="requester_overview"),
    path("hulpaanvragen/<int:pk>/", views.request_detail, name="request_detail"),
    path(
        "hulpaanvragen/<int:pk>/rest-niet-nodig/",
        views.request_close_rest,
        name="request_close_rest",
    ),
]
