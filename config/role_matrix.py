"""Who may do what: every URL of the site and of the admin, and every admin action, by role.

The table is the written rule; `tests/test_role_matrix.py` holds the code to it: a URL name,
an admin model or an admin action that is not listed here fails the suite (deny by default),
and the listed rights are checked against the admin's permissions and real requests. The
README's "Roles and rights" section is this table in words. Data only: nothing imports apps.
"""

ANONYMOUS = "anonymous"
USER = "user"  # logged in, no organisation yet
KINDS = ("donor", "requester", "refurbisher", "telecom")
HELPDESK = "helpdesk"
COORDINATOR = "coordinator"
SUPERUSER = "superuser"

ROLES = (
    ANONYMOUS,
    USER,
    *(f"{kind}_{level}" for kind in KINDS for level in ("member", "admin")),
    HELPDESK,
    COORDINATOR,
    SUPERUSER,
)
STAFF_ROLES = (HELPDESK, COORDINATOR, SUPERUSER)


def members(*kinds: str) -> frozenset:
    """Members and admins of a verified organisation of one of `kinds` (any kind when none)."""
    return frozenset(f"{k}_{level}" for k in kinds or KINDS for level in ("member", "admin"))


def admins(*kinds: str) -> frozenset:
    return frozenset(f"{k}_admin" for k in kinds or KINDS)


EVERYONE = frozenset(ROLES)
LOGGED_IN = EVERYONE - {ANONYMOUS}
SUPER = frozenset({SUPERUSER})
COORD = frozenset({COORDINATOR, SUPERUSER})
STAFF = frozenset(STAFF_ROLES)
NOBODY = frozenset()

# --- The site: URL name -> who may open it ----------------------------------------------------
# Organisation pages answer another organisation's object with a 404; staff without a second
# factor verified in the session are sent to set it up first (every URL but MFA_FREE_URL_NAMES).
SITE = {
    # Public
    "home": EVERYONE,
    "healthz": EVERYONE,
    "healthz_ready": EVERYONE,
    "set_language": EVERYONE,
    "certificate_verify": EVERYONE,
    "refurbish:certificate_lookup": EVERYONE,
    "refurbish:certificate_verify": EVERYONE,
    "distribution:help": EVERYONE,
    "distribution:help_kind": EVERYONE,
    "privacy": EVERYONE,
    "usersessions_list": LOGGED_IN,
    # A person's own data (AVG): download or erase; staff accounts ask a superuser to erase
    "personal_data": LOGGED_IN,
    "personal_data_export": LOGGED_IN,
    "personal_data_erase": LOGGED_IN,
    # Accounts (allauth): log-in, sign-up, reset and confirmation are open; the rest needs a log-in
    "account_login": EVERYONE,
    "account_signup": EVERYONE,
    "account_inactive": EVERYONE,
    "account_confirm_login_code": EVERYONE,
    "account_email_verification_sent": EVERYONE,
    "account_confirm_email": EVERYONE,
    "account_reset_password": EVERYONE,
    "account_reset_password_done": EVERYONE,
    "account_reset_password_from_key": EVERYONE,
    "account_reset_password_from_key_done": EVERYONE,
    "account_logout": LOGGED_IN,
    "account_reauthenticate": LOGGED_IN,
    "account_request_reauthentication_code": LOGGED_IN,
    "account_confirm_reauthentication_code": LOGGED_IN,
    "account_email": LOGGED_IN,
    "account_change_password": LOGGED_IN,
    "account_set_password": LOGGED_IN,
    # Two-step verification: every logged-in user may switch it on (staff must)
    "mfa_index": LOGGED_IN,
    "mfa_authenticate": EVERYONE,  # the second step of a log-in in progress
    "mfa_reauthenticate": LOGGED_IN,
    "mfa_activate_totp": LOGGED_IN,
    "mfa_deactivate_totp": LOGGED_IN,
    "mfa_view_recovery_codes": LOGGED_IN,
    "mfa_generate_recovery_codes": LOGGED_IN,
    "mfa_download_recovery_codes": LOGGED_IN,
    "mfa_list_webauthn": LOGGED_IN,
    "mfa_add_webauthn": LOGGED_IN,
    "mfa_reauthenticate_webauthn": LOGGED_IN,
    "mfa_remove_webauthn": LOGGED_IN,
    "mfa_edit_webauthn": LOGGED_IN,
    # Organisation
    "dashboard": LOGGED_IN,  # sends each role to its own start page
    "organisation_create": frozenset({USER}),
    "awaiting_verification": members(),
    "organisation_detail": members(),  # admins also invite colleagues there
    "invitation_withdraw": admins(),
    "invitation_accept": LOGGED_IN,  # only with the invited address and a valid token
    # Donations (donors) and pickups (refurbishers)
    "coordination:donor_overview": members("donor"),
    "coordination:impact": members("donor"),
    "coordination:impact_pdf": members("donor"),
    "donations:create": members("donor"),
    "donations:template_csv": members("donor"),
    "donations:template_xlsx": members("donor"),
    "donations:detail": members("donor"),
    "donations:manifest_upload": members("donor"),
    "donations:manifest_job": members("donor"),
    "donations:devices_csv": members("donor"),
    "donations:cancel": members("donor"),
    "donations:found_later": members("donor"),
    "donations:pickups": members("refurbisher"),
    "donations:pickup_collected": members("refurbisher"),
    "donations:pickup_received": members("refurbisher"),
    # Help requests (requesting organisations) and internet connections (telecom)
    "coordination:requester_overview": members("requester"),
    "coordination:request_detail": members("requester"),
    "coordination:request_close_rest": members("requester"),
    "helprequests:create": members("requester"),
    "helprequests:edit": members("requester"),
    "helprequests:review": members("requester"),
    "helprequests:cancel": members("requester"),
    "helprequests:telecom_dashboard": members("telecom"),
    "helprequests:telecom_detail": members("telecom"),
    "helprequests:telecom_csv": members("telecom"),
    "helprequests:telecom_upload": members("telecom"),
    "helprequests:telecom_upload_job": members("telecom"),
    # Refurbishment (the workshop)
    "refurbish:dashboard": members("refurbisher"),
    "refurbish:donation": members("refurbisher"),
    "refurbish:intake": members("refurbisher"),
    "refurbish:intake_complete": members("refurbisher"),
    "refurbish:intake_undo": members("refurbisher"),
    "refurbish:devices": members("refurbisher"),
    "refurbish:device_find": members("refurbisher"),
    "refurbish:device": members("refurbisher"),
    "refurbish:device_erasure": members("refurbisher"),
    "refurbish:device_log": members("refurbisher"),
    "refurbish:device_inspection": members("refurbisher"),
    "refurbish:device_recycle": members("refurbisher"),
    "refurbish:labels": members("refurbisher"),
    "refurbish:log_upload": members("refurbisher"),
    "refurbish:log_job": members("refurbisher"),
    "refurbish:station_tokens": admins("refurbisher"),
    "refurbish:station_token_revoke": admins("refurbisher"),
    "refurbish:api_erasure_logs": NOBODY,  # a wiping station with its token, no user
    # Documents: the organisation's own, and coordinators (helpdesk: no)
    "refurbish:erasure_evidence": members("refurbisher") | COORD,
    "refurbish:certificate": members("donor", "refurbisher") | COORD,
    "distribution:packing_list": members("refurbisher", "requester"),
    "distribution:instruction_sheets": members("refurbisher", "requester"),
    # Shipping (refurbishers) and receiving (requesting organisations)
    "distribution:shipping": members("refurbisher"),
    "distribution:shipment_start": members("refurbisher"),
    "distribution:outgoing": members("refurbisher"),
    "distribution:outgoing_scan": members("refurbisher"),
    "distribution:outgoing_remove": members("refurbisher"),
    "distribution:outgoing_ship": members("refurbisher"),
    "distribution:outgoing_cancel": members("refurbisher"),
    "distribution:shipments": members("requester"),
    "distribution:shipment": members("requester"),
    "distribution:shipment_confirm": members("requester"),
    "distribution:shipment_item_found": members("requester"),
    "distribution:handout": members("requester"),
    # Helpdesk: find a device, log a contact, start a return
    "distribution:helpdesk": STAFF,
    "distribution:helpdesk_device": STAFF,
    "distribution:helpdesk_contact": STAFF,
    "distribution:helpdesk_return": STAFF,
    "distribution:helpdesk_resolve": STAFF,
    # Coordination
    "coordination:dashboard": COORD,
    "coordination:refresh": COORD,
    "coordination:export": COORD,  # only lists whose records it may change
    "coordination:donor_impact": COORD,
    # The admin's own pages (per-model pages: ADMIN_MODELS)
    "admin:index": STAFF,
    "admin:login": EVERYONE,  # allauth's log-in (rate limits, second factor)
    "admin:logout": STAFF,
    "admin:password_change": STAFF,
    "admin:password_change_done": STAFF,
    "admin:autocomplete": STAFF,
    "admin:jsi18n": STAFF,
    "admin:view_on_site": STAFF,
    "admin:app_list": STAFF,  # an app's models, as far as the role may see them
    "admin:auth_user_password_change": SUPER,  # another user's password: superusers only
    "admin:helprequests_approve": COORD,
    "admin:helprequests_reject": COORD,
    "admin:helprequests_fulfil": COORD,
    "admin:helprequests_close": COORD,
    "admin:helprequests_assign_connectivity": COORD,
    "admin:distribution_allocate_by_hand": COORD,
    "admin:distribution_run_now": COORD,
    "admin:distribution_what_if": COORD,
}

# --- The admin: model -> who may view, add, change, delete ------------------------------------
# (changelist, change page and history need view; organisation users never reach the admin)


def rights(view=STAFF, add=NOBODY, change=COORD, delete=SUPER) -> dict:
    return {"view": view, "add": add, "change": change, "delete": delete}


READ_ONLY = rights(change=NOBODY, delete=NOBODY)
SUPERUSER_ONLY = rights(view=SUPER, add=SUPER, change=SUPER)

ADMIN_MODELS = {
    "account.EmailAddress": SUPERUSER_ONLY,
    "auth.Group": SUPERUSER_ONLY,
    "mfa.Authenticator": SUPERUSER_ONLY,
    "usersessions.UserSession": SUPERUSER_ONLY,  # addresses and browsers: superusers only
    "allemaal.User": rights(add=SUPER),  # coordinators: organisation users only, no rights
    "allemaal.Organisation": rights(add=COORD),
    "allemaal.Invitation": rights(view=COORD, add=COORD),
    "allemaal.Notification": rights(),  # change = re-send; bodies never show one-time links
    "coordination.DashboardSnapshot": rights(change=NOBODY),
    "donations.Donation": rights(delete=NOBODY),
    "donations.Device": rights(delete=NOBODY),
    "donations.DeviceEvent": READ_ONLY,
    "donations.DonationPolicy": rights(delete=NOBODY),
    "donations.ManifestImport": READ_ONLY,  # asset-list jobs; coordinators queue a stuck one
    "helprequests.HelpRequest": rights(),
    "helprequests.IntakeSwitch": rights(add=COORD),
    "helprequests.ConnectivityAssignment": rights(),
    "helprequests.ConnectivityReminder": rights(change=NOBODY),
    "helprequests.CoordinatorDigest": rights(change=NOBODY),
    "helprequests.ProvisionUpload": READ_ONLY,
    "refurbish.DeviceTrail": READ_ONLY,
    "refurbish.ErasureRecord": READ_ONLY,
    "refurbish.DeviceInspection": READ_ONLY,
    "refurbish.IntakeScan": READ_ONLY,
    "refurbish.ErasureCertificate": READ_ONLY,
    "refurbish.StationToken": rights(view=COORD, delete=NOBODY),  # change = revoke
    "distribution.Allocation": rights(delete=NOBODY),
    "distribution.AllocationRun": READ_ONLY,
    "distribution.PriorityPolicy": rights(add=COORD, change=NOBODY, delete=NOBODY),
    "distribution.Shipment": rights(delete=NOBODY),
    "distribution.HandoutReport": rights(delete=NOBODY),
    "distribution.SupportContact": rights(delete=NOBODY),
    "distribution.DeviceReturn": rights(delete=NOBODY),
    "distribution.UnservedRequest": READ_ONLY,
}

# --- Admin actions: "app.Model.action" -> who may run it ---------------------------------------
# Exports (CSV, Excel) go to whoever may change the list's records; the helpdesk runs none.
ADMIN_ACTIONS = {
    "account.EmailAddress.make_verified": SUPER,
    "allemaal.Organisation.verify": COORD,
    "allemaal.Organisation.reject": COORD,
    "allemaal.Notification.requeue": COORD,  # a one-time link is issued afresh
    # A person's data (AVG): coordinators for organisation users; staff accounts are superusers'.
    "allemaal.User.export_personal_data": COORD,
    "allemaal.User.erase_personal_data": COORD,
    "refurbish.StationToken.revoke": COORD,
    "donations.ManifestImport.requeue": COORD,
    "donations.Donation.schedule_pickup": COORD,
    "donations.Donation.decline": COORD,
    "helprequests.HelpRequest.approve_as_requested": COORD,
    "helprequests.HelpRequest.reject": COORD,
    "helprequests.HelpRequest.mark_fulfilled": COORD,
    "helprequests.HelpRequest.close_fulfilled": COORD,
    "helprequests.HelpRequest.assign_connectivity": COORD,
    "helprequests.ConnectivityAssignment.withdraw": COORD,
    "distribution.Allocation.approve": COORD,
    "distribution.Allocation.approve_requests": COORD,
    "distribution.Allocation.reject": COORD,
    "distribution.Allocation.reject_for_organisation": COORD,
    "distribution.Allocation.reject_request": COORD,
    "distribution.Allocation.lift_rejection": COORD,
    "distribution.Allocation.cancel": COORD,
    "distribution.AllocationRun.approve_all": COORD,
    "distribution.PriorityPolicy.activate": COORD,
    "distribution.Shipment.resolve": COORD,
    "distribution.Shipment.cancel": COORD,
    **{
        f"{model}.{export}": COORD
        for model in (
            "donations.Donation",
            "donations.Device",
            "helprequests.HelpRequest",
            "helprequests.ConnectivityAssignment",
            "distribution.Allocation",
            "distribution.Shipment",
            "distribution.SupportContact",
        )
        for export in ("export_selected_csv", "export_selected_xlsx")
    },
    # Deleting is for superusers, on the few lists where rows may go at all.
    **{
        f"{model}.delete_selected": SUPER
        for model, r in ADMIN_MODELS.items()
        if r["delete"] == SUPER
    },
}
