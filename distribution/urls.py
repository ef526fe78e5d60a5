from django.urls import path

from . import views

app_name = "distribution"

urlpatterns = [
    path("internet/", views.telecom_dashboard, name="telecom_dashboard"),
]
