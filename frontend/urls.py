from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from frontend import casework, views, without_map
from frontend.staff import privacy, sso
from frontend.staff import views as staff_views
from reports.staff.identity import StaffLoginForm

staff_patterns = [
    path("", staff_views.queue, name="staff-queue"),
    path("reports/<int:report_id>/", staff_views.detail, name="staff-report"),
    path("reports/<int:report_id>/row", staff_views.queue_row, name="staff-row"),
    path("changes", staff_views.queue_changes, name="staff-changes"),
    path("reports/<int:report_id>/<slug:name>/", staff_views.action, name="staff-action"),
    path("bulk/", staff_views.bulk, name="staff-bulk"),
    path("new/", staff_views.new_report, name="staff-new-report"),
    path("sso/<int:provider_id>/", sso.start, name="staff-sso"),
    path("sso/<int:provider_id>/callback", sso.callback, name="staff-sso-callback"),
    path("stats/", staff_views.stats, name="staff-stats"),
    path("privacy/", privacy.page, name="staff-privacy"),
    path("export.csv", staff_views.export, name="staff-export"),
    path("login/", auth_views.LoginView.as_view(authentication_form=StaffLoginForm,
                                                extra_context={"providers": sso.providers}),
         name="login"),
    # logout, password change and password reset by mail: Django's views and templates.
    path("", include("django.contrib.auth.urls")),
]

urlpatterns = [
    path("staff/", include(staff_patterns)),
    path("", views.map_page, name="map"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["frontend"]), name="javascript-catalog"),
    path("reports/<int:report_id>", views.report_page, name="report-page"),
    path("reports/<int:report_id>/", views.report_page),
    path("reports/confirm/<str:token>", views.report_confirm, name="report-confirm"),
    path("reports/view/<str:token>", views.private_report_page, name="report-view"),
    path("questions/<str:token>", casework.question_page, name="question-answer"),
    path("handovers/<str:token>", casework.handover_page, name="handover"),
    path("follow-up/<str:token>", casework.follow_up_page, name="follow-up"),
    path("my-reports/", casework.my_reports_request, name="my-reports"),
    path("report/", without_map.report_without_map, name="report-without-map"),
    path("my-reports/<str:token>", casework.my_reports_page, name="my-reports-page"),
    path("alerts/confirm/<str:token>", views.alert_confirm, name="alert-confirm"),
    path("alerts/unsubscribe/<str:token>", views.alert_unsubscribe, name="alert-unsubscribe"),
    path("subscriptions/confirm/<str:token>", views.subscription_confirm,
         name="subscription-confirm"),
    path("subscriptions/unsubscribe/<str:token>", views.subscription_unsubscribe,
         name="subscription-unsubscribe"),
]
