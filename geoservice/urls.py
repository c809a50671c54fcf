from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from reports.notifications.feeds import AreaFeed, NearFeed
from reports.staff.identity import StaffAdminLoginForm

# The admin's login counts failures like the dashboard's (it let anyone guess staff
# passwords without limit).
admin.site.login_form = StaffAdminLoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("reports.api.urls")),
    path("open311/v2/", include("reports.open311.urls")),
    path("feeds/area/<int:area_id>/", AreaFeed(), name="feed-area"),
    path("feeds/near/", NearFeed(), name="feed-near"),
    path("", include("frontend.urls")),
]

if settings.SERVE_MEDIA:
    # Uploaded photos from MEDIA_ROOT; in production a web server or S3 serves them.
    urlpatterns.insert(0, re_path(r"^media/(?P<path>.*)$", serve,
                                  {"document_root": settings.MEDIA_ROOT}))
