from django.conf import settings


def platform(request):
    user = getattr(request, "user", None)
    membership = None
    if user is not None and user.is_authenticated and not user.is_staff:
        membership = getattr(request, "membership", None)
        if membership is None:
            from .models import Membership

            membership = Membership.objects.select_related("organisation").filter(user=user).first()
    return {
        "SUPPORT_PHONE": settings.SUPPORT_PHONE,
        "SUPPORT_HOURS": settings.SUPPORT_HOURS,
        "current_membership": membership,
        "current_organisation": membership.organisation if membership else None,
    }
