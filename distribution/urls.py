"""Mounted at the site root: prefixes per audience. /verzenden/ the refurbisher, /zendingen/ and
/uitgifte/ the requesting organisation (documents for both), /helpdesk/ the support line (two-step
verification enforced by the middleware), /hulp/ the public help pages."""

from django.urls import path

from . import views

app_name = "distribution"

urlpatterns = [
    # Refurbisher
    path("verzenden/", views.shipping, name="shipping"),
    path("verzenden/nieuw/", views.shipment_start, name="shipment_start"),
    path("verzenden/<int:pk>/", views.outgoing, name="outgoing"),
    path("verzenden/<int:pk>/scannen/", views.outgoing_scan, name="outgoing_scan"),
    path(
        "verzenden/<int:pk>/verwijderen/<int:item_id>/",
        views.outgoing_remove,
        name="outgoing_remove",
    ),
    path("verzenden/<int:pk>/verzonden/", views.outgoing_ship, name="outgoing_ship"),
    path("verzenden/<int:pk>/annuleren/", views.outgoing_cancel, name="outgoing_cancel"),
    # Requesting organisation
    path("zendingen/", views.shipments, name="shipments"),
    path("zendingen/<int:pk>/", views.shipment, name="shipment"),
    path("zendingen/<int:pk>/ontvangst/", views.shipment_confirm, name="shipment_confirm"),
    path(
        "zendingen/<int:pk>/gevonden/<int:item_id>/",
        views.shipment_item_found,
        name="shipment_item_found",
    ),
    path("zendingen/<int:pk>/paklijst.pdf", views.packing_list, name="packing_list"),
    path("zendingen/<int:pk>/uitleg.pdf", views.instruction_sheets, name="instruction_sheets"),
    path("uitgifte/<int:request_id>/", views.handout, name="handout"),
    # Helpdesk
    path("helpdesk/", views.helpdesk, name="helpdesk"),
    path("helpdesk/apparaat/<int:device_id>/", views.helpdesk_device, name="helpdesk_device"),
    path(
        "helpdesk/apparaat/<int:device_id>/contact/",
        views.helpdesk_contact,
        name="helpdesk_contact",
    ),
    path(
        "helpdesk/apparaat/<int:device_id>/retour/", views.helpdesk_return, name="helpdesk_return"
    ),
    path(
        "helpdesk/contact/<int:contact_id>/opgelost/",
        views.helpdesk_resolve,
        name="helpdesk_resolve",
    ),
    # Public help pages
    path("hulp/", views.help_index, name="help"),
    path("hulp/<slug:kind>/", views.help_kind, name="help_kind"),
]
