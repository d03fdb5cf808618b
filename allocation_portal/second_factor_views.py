"""The second factor's pages: the account's page, enrolment (QR code, secret, one code to confirm,
then the recovery codes once), verification at sign-in, new recovery codes, and the reset. See
second_factor.py."""

from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from . import second_factor as sf
from .access import role_required
from .errors import PortalError
from .forms import add_portal_error
from .throttles import client_ip


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"), max_length=32, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True,
                                      "spellcheck": "false", "autocapitalize": "off"}),
    )


class ProofForm(forms.Form):
    """The account's password again (or, for an account that signs in only through single sign-on, a
    code) before its second factor is reset or its recovery codes are replaced."""

    password = forms.CharField(label=gettext_lazy("Your password"), strip=False, required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(label=gettext_lazy("A code from your authenticator app, or a recovery code"),
                           max_length=32, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # An account that signs in only through single sign-on has no password: it proves itself with a code.
        if user.has_usable_password():
            del self.fields["code"]
            self.fields["password"].required = True
        else:
            del self.fields["password"]
            self.fields["code"].required = True

    def clean_password(self):
        password = self.cleaned_data.get("password", "")
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return resolve_url("home")


def _wait_message(seconds: int) -> str:
    return _("Too many wrong codes in a row. Wait %(seconds)s seconds before trying again.") % {"seconds": seconds}


@role_required()
def second_factor_page(request):
    """The account's second factor: whether it is set up, how many recovery codes are left."""
    user = request.user
    enrolled = sf.has_authenticator(user)
    return render(request, "accounts/second_factor.html", {
        "enrolled": enrolled, "required": user.needs_second_factor,
        "codes_left": sf.recovery_codes_left(user) if enrolled else 0,
    })


@never_cache
@role_required()
def second_factor_enrol(request):
    user = request.user
    if sf.session_state(request, user) == "device":
        # Replacing an authenticator goes through the reset (which asks for the password first).
        return redirect("second-factor")
    key = sf.enrolment_key(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = sf.second_factor_enrol(actor=user, user=user, key=key, code=form.cleaned_data["code"])
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            request.session.pop(sf.ENROL_KEY_SESSION_KEY, None)
            update_session_auth_hash(request, user)  # this session stays; every other one ends
            sf.mark_verified(request, device)
            return render(request, "accounts/second_factor_codes.html", {"codes": codes, "next": _next_url(request)})
    setup = sf.provisioning(user, key)
    qr = segno.make(setup["url"], error="m").svg_inline(
        scale=5, border=2, title=_("QR code for your authenticator app"), svgclass="qr")
    return render(request, "accounts/second_factor_enrol.html", {
        "form": form, "secret": setup["secret"], "qr": mark_safe(qr),  # noqa: S308 - segno's own SVG of our URL
        "required": user.needs_second_factor, "next": request.GET.get("next") or request.POST.get("next", ""),
    })


@never_cache
@sensitive_post_parameters("code")
@role_required()
def second_factor_verify(request):
    user = request.user
    if sf.is_verified(request):
        return redirect(_next_url(request))
    if sf.session_state(request, user) != "device":
        return redirect(sf.step_url("enrol", request.GET.get("next", "")) if user.needs_second_factor
                        else _next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = sf.second_factor_verify(user=user, code=form.cleaned_data["code"], ip_address=client_ip(request))
        if result.device is not None:
            sf.mark_verified(request, result.device)
            if result.recovery_codes_left is not None:
                messages.warning(request, _("You used a recovery code; %(n)s are left. If you lost your phone, reset "
                                            "your second factor and set it up again.") % {"n": result.recovery_codes_left})
            return redirect(_next_url(request))
        if result.wrong and result.wait_seconds <= 1:
            form.add_error("code", _("That code is not right. Check your authenticator app and try again."))
        elif result.wrong:
            form.add_error("code", _("That code is not right.") + " " + _wait_message(result.wait_seconds))
        else:
            form.add_error("code", _wait_message(result.wait_seconds))
    return render(request, "accounts/second_factor_verify.html",
                  {"form": form, "next": request.GET.get("next") or request.POST.get("next", "")},
                  status=200 if not form.errors else 400)


def _proved(request, form: ProofForm) -> bool:
    """The posted proof holds: the password, or a code (checked, and throttled, like at sign-in)."""
    if not form.is_valid():
        return False
    code = form.cleaned_data.get("code")
    if code:
        result = sf.second_factor_verify(user=request.user, code=code, ip_address=client_ip(request))
        if result.device is None:
            form.add_error("code", _wait_message(result.wait_seconds) if result.wait_seconds > 1
                           else _("That code is not right. Check your authenticator app and try again."))
    return not form.errors


@never_cache
@sensitive_post_parameters("password", "code")
@role_required()
def recovery_codes_renew(request):
    """Ten new recovery codes, after the password again; the old ones stop working."""
    user = request.user
    if not sf.has_authenticator(user):
        return redirect("second-factor")
    form = ProofForm(request.POST or None, user=user)
    if request.method == "POST" and _proved(request, form):
        try:
            codes = sf.recovery_codes_renew(actor=user, user=user)
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            return render(request, "accounts/second_factor_codes.html",
                          {"codes": codes, "renewed": True, "next": resolve_url("second-factor")})
    return render(request, "accounts/second_factor_recovery_codes.html",
                  {"form": form, "codes_left": sf.recovery_codes_left(user)}, status=400 if form.errors else 200)


@never_cache
@sensitive_post_parameters("password", "code")
@role_required()
def second_factor_reset(request):
    """Remove one's own authenticator and recovery codes, after giving the password again."""
    user = request.user
    if not sf.has_authenticator(user):
        return redirect("second-factor")
    form = ProofForm(request.POST or None, user=user)
    if request.method == "POST" and _proved(request, form):
        sf.second_factor_reset(actor=user, user=user)
        update_session_auth_hash(request, user)
        sf.mark_unenrolled(request)
        messages.success(request, _("Your second factor was removed. Every other session of your account was signed out."))
        if user.needs_second_factor:
            return redirect("second-factor-enrol")
        return redirect("second-factor")
    return render(request, "accounts/second_factor_reset.html", {"form": form, "required": user.needs_second_factor},
                  status=400 if form.errors else 200)
