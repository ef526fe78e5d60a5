from django.shortcuts import render

from allemaal.access import organisation_required
from allemaal.models import Organisation


@organisation_required(Organisation.Kind.DONOR)
def dashboard(request):
    return render(request, "donations/dashboard.html")
