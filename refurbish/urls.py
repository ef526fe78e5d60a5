from django.urls import path

from . import views

app_name = "refurbish"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
