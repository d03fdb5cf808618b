"""One filter set for the project list page and the project list endpoint."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from allocation_portal.fields import MonthFilter

from .models import Ministry, Project, ProjectStatus


class ProjectFilter(django_filters.FilterSet):
    ministry = django_filters.ModelChoiceFilter(
        label=_("Ministry"), field_name="ministry", to_field_name="code", queryset=Ministry.objects.all()
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ProjectStatus.choices)
    start_month = MonthFilter(label=_("Planned start month"), method="filter_start_month", help_text=_("YYYY-MM"))
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    sample = django_filters.BooleanFilter(label=_("Sample data"), field_name="is_sample")

    class Meta:
        model = Project
        fields = ["ministry", "status", "start_month", "q", "sample"]

    def __init__(self, *args, ministries=None, **kwargs):
        super().__init__(*args, **kwargs)
        if ministries is not None:
            self.filters["ministry"].queryset = ministries

    def filter_start_month(self, queryset, name, value):
        return queryset.filter(planned_start__year=value.year, planned_start__month=value.month)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value)
            | Q(title_ko__icontains=value)
            | Q(title_en__icontains=value)
            | Q(ministry__name_ko__icontains=value)
            | Q(ministry__name_en__icontains=value)
        )
