from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from allemaal import views
from allemaal.admin_speed import remember_app_lists
from config import health
from coordination import views as coordination_views
from coordination.admin import index_with_waiting
from refurbish import views as refurbish_views

# The admin is the coordinators' product; its log-in goes through allauth (rate limits, MFA).
admin.site.login = secure_admin_login(admin.site.login)
# The admin home is the coordinators' start page: what waits for them, with links.
admin.site.index = index_with_waiting(admin.site.index)
# The side bar's list of apps and models, built once a minute per staff member and permissions.
remember_app_lists(admin.site)
admin.site.site_header = "#allemaaldigitaal coördinatie"
admin.site.site_title = "#allemaaldigitaal coördinatie"
admin.site.index_title = _("Coördinatie")

urlpatterns = [
    path("", coordination_views.home, name="home"),
    # Answered by config.health.HealthCheckMiddleware; named here for reverse() and the docs.
    path("healthz", health.liveness, name="healthz"),
    path("healthz/ready", health.readiness, name="healthz_ready"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("privacy/", views.privacy, name="privacy"),
    path("account/gegevens/", views.personal_data_page, name="personal_data"),
    path("account/gegevens/download/", views.personal_data_export, name="personal_data_export"),
    path("account/gegevens/wissen/", views.personal_data_erase, name="personal_data_erase"),
    path("organisatie/nieuw/", views.organisation_create, name="organisation_create"),
    path(
        "organisatie/wacht-op-controle/", views.awaiting_verification, name="awaiting_verification"
    ),
    path("organisatie/", views.organisation_detail, name="organisation_detail"),
    path(
        "organisatie/uitnodiging/<int:pk>/intrekken/",
        views.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("uitnodiging/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("verify/<str:code>/", refurbish_views.certificate_verify, name="certificate_verify"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # In front of donations and helprequests: it serves /donaties/ and /hulpaanvragen/ pages.
    path("", include("coordination.urls")),
    path("donaties/", include("donations.urls")),
    path("hulpaanvragen/", include("helprequests.urls")),
    path("opknappen/", include("refurbish.urls")),
    path("", include("distribution.urls")),
]

handler500 = "config.resilience.server_error"
