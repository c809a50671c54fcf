"""GeoReport v2 routes: every endpoint in .json and .xml (JSON without a suffix), with or
without a trailing slash, as clients build URLs both ways."""

from django.urls import re_path

from reports.open311 import views

FMT = r"(?:\.(?P<fmt>json|xml))?/?$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FMT, views.services_list, name="open311-services"),
    re_path(r"^services/(?P<service_code>[-\w]+?)" + FMT, views.service_definition,
            name="open311-service"),
    re_path(r"^requests" + FMT, views.requests_view, name="open311-requests"),
    re_path(r"^requests/(?P<request_id>[^/.]+)" + FMT, views.request_detail,
            name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/.]+)" + FMT, views.token_detail, name="open311-token"),
    re_path(r"^servicerequestupdates" + FMT, views.request_updates, name="open311-updates"),
]
