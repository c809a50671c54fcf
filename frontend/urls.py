from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.landing, name="landing"),
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
