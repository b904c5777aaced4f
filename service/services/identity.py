"""Identity check before a mainland student binds (实名认证): an interface with two providers.

The original mini program used a face check by a third party; here `IdentityVerifier` hides who
answers. "offline" (development, tests) accepts any well-formed resident ID with a name; "http"
POSTs {"name", "id_number"} as JSON to `identity_http_url` and expects {"verified": bool,
"message": str}. A passed check yields a short-lived token signed with the app's secret and bound
to the number, which /student/bind then requires.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from service.config import Settings
from service.errors import GradflowError, InvalidInput, Unauthorized
from service.services.throttle import Limit, client_key, make_key, reserve, succeeded
from service.validation.identity import ID_RESIDENT, check_id_number, normalise_id_number
from service.validation.text import normalise_name

TOKEN_SALT = "gradflow.identity-verification"


class VerifierUnavailable(GradflowError):
    status, code, default_message = 503, "identity_service_unavailable", "身份核验服务暂时不可用，请稍后再试"


@dataclass(frozen=True)
class Verification:
    verified: bool
    message: str = ""


class IdentityVerifier(Protocol):
    def verify(self, name: str, id_number: str) -> Verification: ...


class OfflineVerifier:
    """Accepts a resident ID whose checksum and birth date are valid; no outside service."""

    def verify(self, name: str, id_number: str) -> Verification:
        result = check_id_number(ID_RESIDENT, id_number)
        if not result.ok:
            return Verification(False, result.errors[0])
        return Verification(True)


class HttpVerifier:
    """A real identity service behind a small JSON contract (see the module docstring)."""

    def __init__(self, url: str, timeout: float) -> None:
        if not url:
            raise VerifierUnavailable("未配置身份核验服务地址 (identity_http_url)")
        self.url, self.timeout = url, timeout

    def verify(self, name: str, id_number: str) -> Verification:
        body = json.dumps({"name": name, "id_number": id_number}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                answer = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            raise VerifierUnavailable() from None
        if not isinstance(answer, dict) or not isinstance(answer.get("verified"), bool):
            raise VerifierUnavailable()
        return Verification(answer["verified"], str(answer.get("message") or ""))


def verifier_for(settings: Settings) -> IdentityVerifier:
    if settings.identity_provider == "offline":
        return OfflineVerifier()
    if settings.identity_provider == "http":
        return HttpVerifier(settings.identity_http_url, settings.identity_http_timeout)
    raise VerifierUnavailable(f"未知的身份核验方式：{settings.identity_provider}")


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=TOKEN_SALT)


def identity_limit(client: str | None, settings: Settings) -> Limit:
    """Failed checks per client address: the endpoint is anonymous, so without this it is an oracle for
    name/number pairs and a cost to the school's identity service."""
    return Limit(make_key("identity-addr", client_key(client)), settings.identity_max_failures,
                 settings.login_lock_seconds, "实名认证失败次数过多，请 {minutes} 分钟后再试")


def verify_identity(name: str, id_number: str, settings: Settings,
                    verifier: IdentityVerifier | None = None, *, client: str | None = None) -> str:
    """Run the configured check; returns the signed token, or raises 422 saying why it failed.

    Throttled per client address (`client`, None = not over the network) before the verifier is asked;
    a failed check keeps its slot, a passed one (or an unavailable service) gives it back.
    """
    name = normalise_name(name)
    number = normalise_id_number(id_number or "")
    if not name or not number:
        details = {k: ["必填"] for k, v in (("name", name), ("id_number", number)) if not v}
        raise InvalidInput("请填写姓名和身份证号码", details=details)
    ticket = reserve([identity_limit(client, settings)])
    try:
        outcome = (verifier or verifier_for(settings)).verify(name, number)
    except Exception:
        succeeded(ticket)
        raise
    if not outcome.verified:
        left = ticket.attempts_left()
        raise InvalidInput(outcome.message or "身份核验未通过", code="identity_not_verified",
                           details={"id_number": [outcome.message or "身份核验未通过"], "attempts_left": left})
    succeeded(ticket)
    return _serializer(settings).dumps({"id_number": number, "name": name})


def check_token(token: str, id_number: str, settings: Settings) -> None:
    """The token must be ours, fresh, and issued for this very number."""
    if not token:
        raise Unauthorized("内地学生请先完成实名认证", code="identity_token_required")
    try:
        payload = _serializer(settings).loads(token, max_age=settings.identity_token_seconds)
    except SignatureExpired:
        raise Unauthorized("实名认证已过期，请重新认证", code="identity_token_expired") from None
    except BadSignature:
        raise Unauthorized("实名认证凭证无效，请重新认证", code="identity_token_invalid") from None
    if not isinstance(payload, dict) or payload.get("id_number") != normalise_id_number(id_number):
        raise Unauthorized("实名认证的证件号码与绑定的证件号码不一致", code="identity_token_mismatch")
