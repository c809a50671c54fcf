from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("reports/<int:report_id>", views.report_page, name="report-page"),
    path("reports/<int:report_id>/", views.report_page),
]
