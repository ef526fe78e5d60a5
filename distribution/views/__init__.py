"""Pages of the distribution app: the refurbisher's shipping (`shipping`), the requesting
organisation's shipments and hand-out reports (`receiving`), the helpdesk (`helpdesk`, under
/helpdesk/ where two-step verification is enforced), the public help pages (`help`), and the
telecom provider's dashboard shell (`telecom`)."""

from .help import help_index, help_kind
from .helpdesk import helpdesk, helpdesk_contact, helpdesk_device, helpdesk_resolve, helpdesk_return
from .receiving import handout, shipment, shipment_confirm, shipment_item_found, shipments
from .shipping import (
    instruction_sheets,
    outgoing,
    outgoing_cancel,
    outgoing_remove,
    outgoing_scan,
    outgoing_ship,
    packing_list,
    shipment_start,
    shipping,
)

__all__ = [
    "handout",
    "help_index",
    "help_kind",
    "helpdesk",
    "helpdesk_contact",
    "helpdesk_device",
    "helpdesk_resolve",
    "helpdesk_return",
    "instruction_sheets",
    "outgoing",
    "outgoing_cancel",
    "outgoing_remove",
    "outgoing_scan",
    "outgoing_ship",
    "packing_list",
    "shipment",
    "shipment_confirm",
    "shipment_item_found",
    "shipment_start",
    "shipments",
    "shipping",
]
