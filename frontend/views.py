from django.shortcuts import render

from reports.selectors import served_municipalities_overview


def landing(request):
    return render(request, "frontend/landing.html",
                  {"municipalities": served_municipalities_overview()})
