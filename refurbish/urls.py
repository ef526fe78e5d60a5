from django.urls import path

from . import api, views

app_name = "refurbish"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("donatie/<int:donation_id>/", views.donation_devices, name="donation"),
    path("donatie/<int:donation_id>/inname/", views.intake, name="intake"),
    path(
        "donatie/<int:donation_id>/inname/afronden/",
        views.intake_complete,
        name="intake_complete",
    ),
    path(
        "donatie/<int:donation_id>/inname/<int:device_id>/verwijderen/",
        views.intake_undo,
        name="intake_undo",
    ),
    path("apparaten/", views.device_list, name="devices"),
    path("apparaat/zoeken/", views.device_find, name="device_find"),
    path("apparaat/<int:device_id>/", views.device, name="device"),
    path("apparaat/<int:device_id>/wissen/", views.device_erasure, name="device_erasure"),
    path("apparaat/<int:device_id>/wislog/", views.device_log, name="device_log"),
    path("apparaat/<int:device_id>/testen/", views.device_inspection, name="device_inspection"),
    path("apparaat/<int:device_id>/recyclen/", views.device_recycle, name="device_recycle"),
    path("labels/", views.labels, name="labels"),
    path("wislogs/", views.log_upload, name="log_upload"),
    path("wislogs/taak/<int:job_id>/", views.log_job, name="log_job"),
    path("wisbewijs/<int:record_id>/", views.erasure_evidence, name="erasure_evidence"),
    path("wisstations/", views.station_tokens, name="station_tokens"),
    path(
        "wisstations/<int:token_id>/intrekken/",
        views.station_token_revoke,
        name="station_token_revoke",
    ),
    path("api/wislogs/", api.erasure_logs, name="api_erasure_logs"),
    path("certificaat/<int:donation_id>/", views.certificate, name="certificate"),
    path("verify/", views.certificate_lookup, name="certificate_lookup"),
    # The public address is /verify/<code>/ once config/urls.py mounts this view at the root
    # as "certificate_verify"; until then it answers here.
    path("verify/<str:code>/", views.certificate_verify, name="certificate_verify"),
]
