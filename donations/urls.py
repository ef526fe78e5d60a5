from django.urls import path

from . import views

app_name = "donations"

urlpatterns = [
    path("nieuw/", views.donation_create, name="create"),
    path(
        "voorbeeld-apparatenlijst.csv", views.manifest_template, {"fmt": "csv"}, name="template_csv"
    ),
    path(
        "voorbeeld-apparatenlijst.xlsx",
        views.manifest_template,
        {"fmt": "xlsx"},
        name="template_xlsx",
    ),
    path("<int:pk>/", views.donation_detail, name="detail"),
    path("<int:pk>/apparatenlijst/", views.manifest_upload, name="manifest_upload"),
    path("<int:pk>/apparatenlijst/<int:job_id>/", views.manifest_job, name="manifest_job"),
    path("<int:pk>/apparaten.csv", views.devices_csv, name="devices_csv"),
    path("<int:pk>/annuleren/", views.donation_cancel, name="cancel"),
    path("<int:pk>/alsnog-gevonden/", views.found_later, name="found_later"),
    path("ophalen/", views.pickups, name="pickups"),
    path("ophalen/<int:pk>/opgehaald/", views.pickup_collected, name="pickup_collected"),
    path("ophalen/<int:pk>/ontvangen/", views.pickup_received, name="pickup_received"),
]
