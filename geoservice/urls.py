from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("reports.api.urls")),
    path("open311/v2/", include("reports.open311.urls")),
    path("", include("frontend.urls")),
]
