from django.urls import path

from . import views

app_name = "helprequests"

urlpatterns = [
    path("nieuw/", views.request_create, name="create"),
    path("<int:pk>/wijzigen/", views.request_edit, name="edit"),
    path("<int:pk>/controleren/", views.request_review, name="review"),
    path("<int:pk>/annuleren/", views.request_cancel, name="cancel"),
    # Telecom providers: their internet assignments.
    path("internet/", views.telecom_dashboard, name="telecom_dashboard"),
    path("internet/<int:pk>/", views.telecom_detail, name="telecom_detail"),
    path("internet/opdrachten.csv", views.telecom_csv_download, name="telecom_csv"),
    path("internet/uploaden/", views.telecom_upload, name="telecom_upload"),
    path("internet/uploaden/<int:job_id>/", views.telecom_upload_job, name="telecom_upload_job"),
]
