"""Schemathesis hooks for .ci/fuzz (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis

PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def problem_json_errors(ctx, response, case):
    """Every 4xx/5xx is an RFC 9457 problem document (README: "Errors are
    always application/problem+json"), except where the operation itself
    documents another media type for that status: the verification page
    answers a malformed credential or too many scans with an HTML page."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == PROBLEM_JSON:
        try:
            status = response.json().get("status")
        except Exception as e:
            raise AssertionError(f"{response.status_code}: the problem document is not a JSON object ({e})")
        if status != response.status_code:
            raise AssertionError(f"{response.status_code}: the problem document says status {status!r}")
        return None
    documented = case.operation.definition.raw.get("responses", {}).get(str(response.status_code), {})
    if media_type and any(m.split(";")[0].strip().lower() == media_type for m in documented.get("content", {})):
        return None
    raise AssertionError(
        f"{response.status_code} answered with Content-Type {content_type or '(none)'!r}, not {PROBLEM_JSON}"
    )
