from django.shortcuts import render

from allemaal.access import organisation_required
from allemaal.models import Organisation


@organisation_required(Organisation.Kind.TELECOM)
def telecom_dashboard(request):
    return render(request, "distribution/telecom_dashboard.html")
