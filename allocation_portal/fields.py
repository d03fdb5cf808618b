"""Date, month and timestamp fields for forms, serializers and filters, all reading through
`allocation_portal.dates` (one parser, the portal's bounds). Use these, never Django's, DRF's or
django-filter's own date fields: a test walks every form, serializer and filter set to keep it so."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import dates, months
from .messages import render


def _widget_bounds(widget: forms.Widget, *, month: bool = False) -> None:
    fmt = "%Y-%m" if month else "%Y-%m-%d"
    widget.attrs.setdefault("min", dates.EARLIEST.strftime(fmt))
    widget.attrs.setdefault("max", dates.LATEST.strftime(fmt))


# --- Forms (pages) ------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"


class DateField(forms.DateField):
    """A date within the portal's bounds (allocation_portal.dates)."""

    widget = DateInput

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        _widget_bounds(self.widget)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            day = value
        else:
            try:
                day = dates.parse_date(value)
            except dates.DateInvalid as exc:
                raise forms.ValidationError(exc.message, code="invalid") from exc
        try:
            return dates.check_date(day)
        except dates.DateInvalid as exc:
            raise forms.ValidationError(exc.message, code="invalid") from exc


class MonthField(forms.CharField):
    """'YYYY-MM' within the portal's bounds, as the month's first day."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month"}))
        super().__init__(**kwargs)
        _widget_bounds(self.widget, month=True)

    def to_python(self, value):
        if isinstance(value, dt.date):
            value = months.label(value)
        value = super().to_python(value)
        if not value:
            return None
        try:
            return dates.parse_month(value)
        except dates.DateInvalid as exc:
            raise forms.ValidationError(exc.message, code="invalid") from exc

    def prepare_value(self, value):
        return months.label(value) if hasattr(value, "year") else value


class DateTimeField(forms.CharField):
    """An ISO 8601 timestamp within the bounds and a real time zone offset, in UTC."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return dates.parse_datetime(value)
        except dates.DateInvalid as exc:
            raise forms.ValidationError(exc.message, code="invalid") from exc


# --- Serializers (API) --------------------------------------------------------------------------


class ApiDateField(serializers.DateField):
    """'YYYY-MM-DD' within the portal's bounds."""

    def to_internal_value(self, value):
        if isinstance(value, dt.datetime):
            self.fail("datetime")
        try:
            return dates.parse_date(value)
        except dates.DateInvalid as exc:
            raise serializers.ValidationError(exc.message, code="invalid") from exc


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-08"})
class ApiMonthField(serializers.Field):
    """'YYYY-MM' within the portal's bounds, as the month's first day."""

    def to_internal_value(self, data):
        if not isinstance(data, str | dt.date):
            raise serializers.ValidationError(dates.DateInvalid("month").message, code="invalid")
        try:
            return dates.parse_month(data)
        except dates.DateInvalid as exc:
            raise serializers.ValidationError(exc.message, code="invalid") from exc

    def to_representation(self, value):
        return months.label(value)


class ApiStoredTextField(serializers.CharField):
    """A text the portal stored for people to read (a message, or a source string of its catalog),
    rendered in the caller's language (Accept-Language), like the pages' `stored_text` filter; text a
    person typed reads as typed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return render(value)


class ApiDateTimeField(serializers.DateTimeField):
    """An ISO 8601 timestamp within the bounds and a real time zone offset."""

    def to_internal_value(self, value):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            self.fail("date")
        if not isinstance(value, str | dt.datetime):
            raise serializers.ValidationError(dates.DateInvalid("datetime").message, code="invalid")
        try:
            parsed = dates.parse_datetime(value)
        except dates.DateInvalid as exc:
            raise serializers.ValidationError(exc.message, code="invalid") from exc
        return self.enforce_timezone(parsed)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer whose model date and time fields read through the portal's parser."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: ApiDateField,
        models.DateTimeField: ApiDateTimeField,
    }


# --- Filters (list pages and list endpoints) ----------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-08"})
class MonthFilter(django_filters.Filter):
    """?month=YYYY-MM within the bounds (filters an exact month, or calls `method`)."""

    field_class = MonthField


@extend_schema_field({"type": "string", "format": "date-time"})
class DateTimeFilter(django_filters.Filter):
    """?since=<ISO 8601> within the bounds and a real time zone offset."""

    field_class = DateTimeField
