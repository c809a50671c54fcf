from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from reports.api import views

urlpatterns = [
    path("reports/", views.ReportListCreate.as_view(), name="api-reports"),
    path("reports/<int:report_id>/", views.ReportDetail.as_view(), name="api-report"),
    path("reports/<int:report_id>/photos/", views.ReportPhotos.as_view(), name="api-photos"),
    path("reports/<int:report_id>/follow/", views.ReportFollow.as_view(), name="api-follow"),
    path("tiles/reports/<int:z>/<int:x>/<int:y>.mvt", views.ReportTile.as_view(),
         name="api-report-tile"),
    path("tiles/assets/<int:z>/<int:x>/<int:y>.mvt", views.AssetTile.as_view(),
         name="api-asset-tile"),
    path("assets/nearest/", views.AssetNearest.as_view(), name="api-assets-nearest"),
    path("alerts/", views.AlertCreate.as_view(), name="api-alerts"),
    path("categories/", views.CategoryList.as_view(), name="api-categories"),
    path("municipalities/", views.MunicipalityList.as_view(), name="api-municipalities"),
    path("areas/", views.AreaList.as_view(), name="api-areas"),
    path("addresses/", views.AddressSearch.as_view(), name="api-addresses"),
    path("addresses/nearest/", views.AddressNearest.as_view(), name="api-address-nearest"),
    path("health", views.Health.as_view(), name="api-health"),
    path("health/", extend_schema_view(get=extend_schema(exclude=True))(views.Health).as_view()),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the page works under our CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
