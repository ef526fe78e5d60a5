from django.urls import path

from . import views

app_name = "helprequests"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
