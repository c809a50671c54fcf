from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from frontend import views

urlpatterns = [
    path("", views.map_page, name="map"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["frontend"]), name="javascript-catalog"),
    path("reports/<int:report_id>", views.report_page, name="report-page"),
    path("reports/<int:report_id>/", views.report_page),
    path("reports/confirm/<str:token>", views.report_confirm, name="report-confirm"),
    path("alerts/confirm/<str:token>", views.alert_confirm, name="alert-confirm"),
    path("alerts/unsubscribe/<str:token>", views.alert_unsubscribe, name="alert-unsubscribe"),
    path("subscriptions/confirm/<str:token>", views.subscription_confirm,
         name="subscription-confirm"),
    path("subscriptions/unsubscribe/<str:token>", views.subscription_unsubscribe,
         name="subscription-unsubscribe"),
]
