from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation

from .clientip import client_ip
from .security_log import security_event
from .services import notification_queue_rendered


class AccountAdapter(DefaultAccountAdapter):
    """Sends allauth's mails (verification, password reset) through the notification outbox."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        html = next(
            (body for body, mime in getattr(message, "alternatives", []) if mime == "text/html"),
            "",
        )
        user = context.get("user")
        notification_queue_rendered(
            kind=template_prefix.rsplit("/", 1)[-1],
            to_email=email,
            subject=message.subject,
            body_text=message.body,
            body_html=html,
            recipient=user if getattr(user, "pk", None) else None,
            language=translation.get_language() or "nl",
        )

    def get_client_ip(self, request) -> str:
        """allauth's rate limits and session list count by the client behind our proxies."""
        return client_ip(request) or super().get_client_ip(request)

    def validation_error(self, code, *args):
        if code == "too_many_login_attempts":
            security_event("lockout", outcome="refused")
        return super().validation_error(code, *args)

    def save_user(self, request, user, form, commit=True):
        user.language = (translation.get_language() or "nl")[:2]
        return super().save_user(request, user, form, commit=commit)
