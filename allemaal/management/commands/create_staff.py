"""Create a coordinator or helpdesk account: `manage.py create_staff <email> --role helpdesk`.

The new staff member receives a link to choose a password and must set up two-step
verification before anything opens; nobody else ever sees a password."""

from allauth.account.forms import ResetPasswordForm
from allauth.core import context
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import RequestFactory

from allemaal import services


class Command(BaseCommand):
    help = "Create a staff account (coordinator or helpdesk) and mail it a set-password link."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=sorted(services.STAFF_ROLES))

    def handle(self, *args, email, role, **options):
        try:
            user = services.staff_account_create(email=email, role=role)
        except services.DomainError as exc:
            raise CommandError(str(exc)) from exc
        form = ResetPasswordForm(data={"email": user.email})
        if not form.is_valid():
            raise CommandError(form.errors.as_text())
        request = _request()
        with context.request_context(request):
            form.save(request)
        self.stdout.write(f"Created {role} {user.email}; a set-password link is on its way.")


def _request():
    """A request for the site's own address, so that the mailed link points at it."""
    from urllib.parse import urlsplit

    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.base import SessionBase

    site = urlsplit(settings.SITE_URL)
    request = RequestFactory().get("/", HTTP_HOST=site.netloc, secure=site.scheme == "https")
    request.user = AnonymousUser()
    request.session = SessionBase()
    return request
