from django.conf import settings


def platform(request):
    user = getattr(request, "user", None)
    membership = None
    if user is not None and user.is_authenticated and not user.is_staff:
        membership = getattr(request, "membership", None)
        if membership is None:
            # Loaded with the user, organisation and all (allemaal.backends): no query here.
            membership = getattr(user, "membership", None)

    def ask_second_factor() -> bool:
        # Refurbisher admins hold erasure evidence and station tokens: asked (not forced) to
        # switch two-step verification on. Called only by templates that show the notice.
        from .middleware import has_second_factor
        from .models import Organisation

        return bool(
            membership
            and membership.is_admin
            and membership.organisation.kind == Organisation.Kind.REFURBISHER
            and not has_second_factor(user)
        )

    return {
        "ask_second_factor": ask_second_factor,
        "SUPPORT_PHONE": settings.SUPPORT_PHONE,
        "SUPPORT_HOURS": settings.SUPPORT_HOURS,
        "current_membership": membership,
        "current_organisation": membership.organisation if membership else None,
    }
