from django.urls import path

from . import views

app_name = "coordination"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("herberekenen/", views.refresh, name="refresh"),
    path(
        "export/<str:app_label>/<str:model_name>.<str:fmt>",
        views.export,
        name="export",
    ),
    path("impact/<int:pk>/", views.donor_impact, name="donor_impact"),
]
