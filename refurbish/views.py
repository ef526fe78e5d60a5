from django.shortcuts import render

from allemaal.access import organisation_required
from allemaal.models import Organisation


@organisation_required(Organisation.Kind.REFURBISHER)
def dashboard(request):
    return render(request, "refurbish/dashboard.html")
