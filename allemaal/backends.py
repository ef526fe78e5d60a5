"""The authentication backends: Django's and allauth's, loading the signed-in user with their
membership and organisation in one query.

Every page of an organisation needs all three (`allemaal.access.organisation_required`), so a
signed-in request pays one query for them, not two. The user is still read at every request, so
a deactivated user is out at their next one (`user_can_authenticate`).
"""

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends, get_user_model


class _WithMembership:
    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("membership__organisation")
        try:
            user = users.get(pk=user_id)
        except users.model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_WithMembership, backends.ModelBackend):
    pass


class AuthenticationBackend(_WithMembership, allauth_backends.AuthenticationBackend):
    pass
