from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllemaalConfig(AppConfig):
    name = "allemaal"
    verbose_name = _("Platform")

    def ready(self):
        from allauth.mfa import signals as mfa_signals

        from . import security_log, sessions
        from .middleware import MFA_SESSION_KEY

        sessions.connect_signals()
        security_log.connect_signals()

        def forget_mfa_check(sender, request=None, **kwargs):
            if request is not None and hasattr(request, "session"):
                request.session.pop(MFA_SESSION_KEY, None)

        def remember_mfa_check(sender, request=None, **kwargs):
            # Setting up a factor proves it: the session goes on without a second log-in.
            if request is not None and hasattr(request, "session"):
                request.session[MFA_SESSION_KEY] = True

        mfa_signals.authenticator_removed.connect(forget_mfa_check, weak=False)
        mfa_signals.authenticator_added.connect(remember_mfa_check, weak=False)
